"""flask commands: users, tokens, categories and the demo data. Each is idempotent and says what it did."""
import re

import click
from flask import current_app
from sqlalchemy import select

from dispatch.errors import AppError
from dispatch.extensions import db
from dispatch.org.models import Community, Department, Street, User
from dispatch.org.roles import Role
from dispatch.org.services import by_code, create_token, create_user, revoke_token
from dispatch.teams.skills import CATEGORY_SKILLS
from dispatch.tickets.category_seed import CATEGORY_SEED
from dispatch.tickets.models import Category, Priority


def _fail(exc):
    raise click.ClickException(exc.message) from exc


OPENID = re.compile(r"[A-Za-z0-9_-]{6,64}")


def load_categories():
    """Insert the seeded categories (with their usual skills), or refresh names and keywords; (added, updated)."""
    added = updated = 0
    for spec in CATEGORY_SEED:
        category = db.session.scalar(select(Category).where(Category.code == spec["code"]))
        if category is None:
            # Skills only on insert: an admin's later choice on the categories page survives a reload.
            category = Category(code=spec["code"], required_skills=list(CATEGORY_SKILLS.get(spec["code"], ())))
            db.session.add(category)
            added += 1
        else:
            updated += 1
        category.name, category.sort_order = spec["name"], spec["sort_order"]
        category.default_priority = Priority(spec["default_priority"])
        category.keywords = dict(spec["keywords"])
    db.session.commit()
    return added, updated


@click.group("users")
def users():
    """Manage staff users."""


@users.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--street", help="street code (street supervisors)")
@click.option("--community", help="community code (directors, staff, volunteers)")
@click.option("--department", help="department code (department users)")
@click.option("--name", "display_name", help="display name, e.g. 王主任")
@click.password_option("--password", help="prompted when not given")
def users_create(username, role, street, community, department, display_name, password):
    """Create a staff user, or update the one with that username."""
    try:
        user, created = create_user(
            username, role, password, display_name,
            street=by_code(Street, street, "街道") if street else None,
            community=by_code(Community, community, "社区") if community else None,
            department=by_code(Department, department, "部门") if department else None)
    except AppError as exc:
        _fail(exc)
    click.echo(f"{'created' if created else 'updated'} user {user.username} ({user.role.value})")


@users.command("wechat")
@click.argument("username")
@click.argument("openid", required=False)
@click.option("--clear", is_flag=True, help="unbind the user's WeChat")
def users_wechat(username, openid, clear):
    """Bind a staff user's WeChat openid, so their notifications reach them in WeChat (or --clear it)."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username}")
    if not clear and not (openid and OPENID.fullmatch(openid)):
        raise click.ClickException("give the openid (6–64 letters, digits, _ or -), or --clear")
    user.wechat_openid = None if clear else openid
    db.session.commit()
    click.echo(f"{username}: {'WeChat unbound' if clear else 'notifications go to ' + openid}")


@click.group("tokens")
def tokens():
    """Manage API bearer tokens."""


def issue_secret(name, scope, kind, noun):
    """Issue a token or key and print it once; only its hash is stored."""
    try:
        token, raw = create_token(name, scope, kind)
    except AppError as exc:
        _fail(exc)
    click.echo(f"created {noun} {token.name} (scope {token.scope}); copy it now, it is not shown again:")
    click.echo(raw)


def revoke_secret(name, kind, noun):
    """Revoke a token or key by name and say so."""
    try:
        token, already = revoke_token(name, kind)
    except AppError as exc:
        _fail(exc)
    click.echo(f"{noun} {token.name} {'was already revoked' if already else 'revoked'}")


@tokens.command("create")
@click.argument("name")
@click.option("--scope", required=True, help="district | street:CODE | community:CODE")
def tokens_create(name, scope):
    """Issue a token; it is printed once and only its hash is stored."""
    issue_secret(name, scope, "api", "token")


@tokens.command("revoke")
@click.argument("name")
def tokens_revoke(name):
    """Revoke a token by name."""
    revoke_secret(name, "api", "token")


@click.group("categories")
def categories():
    """Manage request categories."""


@categories.command("load")
def categories_load():
    """Load the standard categories and keywords (adds missing ones, refreshes the rest)."""
    added, updated = load_categories()
    click.echo(f"categories: {added} added, {updated} refreshed")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="do nothing when the database already has an organisation")
@click.option("--tickets", "ticket_count", default=400, show_default=True, help="how many demo tickets")
def seed_demo(if_empty, ticket_count):
    """Load the Shinan district demo: streets, communities, categories, users per role, tickets."""
    from dispatch.demo.seed import seed

    if not current_app.config["DEMO_DATA_ALLOWED"]:
        raise click.ClickException("seed-demo is disabled here (production): it would reset demo passwords. "
                                   "Set DEMO_DATA_ALLOWED=1 only for a demo server.")
    for line in seed(if_empty=if_empty, ticket_count=ticket_count):
        click.echo(line)


def init_app(app):
    """Register the commands."""
    from dispatch.scheduler import scheduler
    from dispatch.sla.cli import sla
    from dispatch.wechat.cli import wechat
    from dispatch.notify.cli import notify
    from dispatch.monitor.cli import monitor
    from dispatch.open311.cli import open311
    for command in (users, tokens, categories, seed_demo, wechat, scheduler, sla, notify, monitor, open311):
        app.cli.add_command(command)
