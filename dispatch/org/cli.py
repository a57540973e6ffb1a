"""flask users / tokens: staff users and API bearer tokens; the secret helpers other doors' keys share."""
import re

import click
from sqlalchemy import select

from dispatch.errors import AppError
from dispatch.extensions import db
from dispatch.org.accounts import reset_password, set_active
from dispatch.org.models import Community, Department, Street, User
from dispatch.org.principal import SYSTEM
from dispatch.org.roles import ROLE_SCOPE, Role
from dispatch.org.services import by_code, create_token, create_user, revoke_token

OPENID = re.compile(r"[A-Za-z0-9_-]{6,64}")


def _fail(exc):
    raise click.ClickException(exc.message) from exc


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
    scope = ROLE_SCOPE[Role(role)]
    given = {kind for kind, code in (("street", street), ("community", community), ("department", department)) if code}
    if given != ({scope} if scope else set()):
        raise click.ClickException(f"role {role} needs " + (f"--{scope} CODE" if scope else
                                                             "no --street, --community or --department"))
    try:
        user, created = create_user(
            username, role, password, display_name,
            street=by_code(Street, street, "街道") if street else None,
            community=by_code(Community, community, "社区") if community else None,
            department=by_code(Department, department, "部门") if department else None)
    except AppError as exc:
        _fail(exc)
    click.echo(f"{'created' if created else 'updated'} user {user.username} ({user.role.value})")


def _user(username):
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username}")
    return user


@users.command("reset-password")
@click.argument("username")
@click.option("--password", help="the new password; a temporary one is made and printed when not given")
def users_reset_password(username, password):
    """Give a user a new password (the same rules as the console's 账号管理 page)."""
    try:
        new = reset_password(SYSTEM, _user(username), password)
    except AppError as exc:
        _fail(exc)
    click.echo(f"password of {username} reset" + ("" if password else f"; temporary password: {new}"))


@users.command("disable")
@click.argument("username")
def users_disable(username):
    """Disable a user: no login, and sessions already open end at their next page."""
    set_active(SYSTEM, _user(username), False)
    click.echo(f"{username} disabled")


@users.command("enable")
@click.argument("username")
def users_enable(username):
    """Enable a disabled user again."""
    set_active(SYSTEM, _user(username), True)
    click.echo(f"{username} enabled")


@users.command("wechat")
@click.argument("username")
@click.argument("openid", required=False)
@click.option("--clear", is_flag=True, help="unbind the user's WeChat")
def users_wechat(username, openid, clear):
    """Bind a staff user's WeChat openid, so their notifications reach them in WeChat (or --clear it)."""
    user = _user(username)
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
