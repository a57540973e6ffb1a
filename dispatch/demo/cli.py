"""flask seed-demo: the Shinan district demo data."""
import click
from flask import current_app


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="do nothing when the database already has an organisation")
@click.option("--tickets", "ticket_count", default=400, show_default=True, help="how many demo tickets")
def seed_demo(if_empty, ticket_count):
    """Load the Shinan district demo: streets, communities, categories, users per role, tickets."""
    from dispatch.demo.seed import seed  # the demo's data is loaded only when asked for, not with every app

    if not current_app.config["DEMO_DATA_ALLOWED"]:
        raise click.ClickException("seed-demo is disabled here (production): it would reset demo passwords. "
                                   "Set DEMO_DATA_ALLOWED=1 only for a demo server.")
    for line in seed(if_empty=if_empty, ticket_count=ticket_count):
        click.echo(line)
