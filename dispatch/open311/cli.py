"""flask open311: issue, list and revoke the api_keys of Open311 clients (partners, the 12345 hotline)."""
import click
from flask.cli import with_appcontext
from sqlalchemy import select

from dispatch.org.cli import issue_secret, revoke_secret
from dispatch.extensions import db
from dispatch.open311.services import KEY_KIND
from dispatch.org.models import ApiToken
from dispatch.timeutil import local


@click.group("open311")
def open311():
    """Open311 GeoReport v2: api_keys for clients."""


@open311.command("create-key")
@click.argument("name")
@click.option("--scope", required=True, help="district | street:CODE | community:CODE")
@with_appcontext
def create_key(name, scope):
    """Issue an api_key; it is printed once and only its hash is stored."""
    issue_secret(name, scope, KEY_KIND, "Open311 key")


@open311.command("revoke-key")
@click.argument("name")
@with_appcontext
def revoke_key(name):
    """Revoke an api_key by name: its client can no longer post or read."""
    revoke_secret(name, KEY_KIND, "Open311 key")


@open311.command("keys")
@with_appcontext
def list_keys():
    """List the api_keys: name, scope, the first characters, when issued and whether revoked."""
    keys = db.session.scalars(select(ApiToken).where(ApiToken.kind == KEY_KIND).order_by(ApiToken.name)).all()
    for key in keys:
        state = f"revoked {local(key.revoked_at):%Y-%m-%d %H:%M}" if key.revoked_at else "live"
        click.echo(f"{key.name}\t{key.scope}\t{key.prefix}…\t{local(key.created_at):%Y-%m-%d %H:%M}\t{state}")
    if not keys:
        click.echo("no Open311 keys yet: flask open311 create-key NAME --scope …")
