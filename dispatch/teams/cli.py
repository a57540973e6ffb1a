"""flask categories: the standard categories, with the skills each usually needs."""
import click

from dispatch.teams.categories import load_categories


@click.group("categories")
def categories():
    """Manage request categories."""


@categories.command("load")
def categories_load():
    """Load the standard categories and keywords (adds missing ones, refreshes the rest)."""
    added, updated = load_categories()
    click.echo(f"categories: {added} added, {updated} refreshed")
