"""flask wechat add-account / list: the accounts of the alliance (secrets never printed whole)."""
import json

import click

from dispatch.errors import AppError
from dispatch.wechat import accounts


@click.group("wechat")
def wechat():
    """The WeChat official accounts of the alliance."""


@wechat.command("add-account")
@click.argument("code")
@click.option("--appid", required=True)
@click.option("--token", required=True, help="the callback Token set in the WeChat console")
@click.option("--aes-key", default=None, help="EncodingAESKey (43 characters), for compatible and safe mode")
@click.option("--secret", required=True, help="AppSecret")
@click.option("--name", default=None, help="the account's name, e.g. 盐城路社区")
@click.option("--community", default=None, help="community code; omit for the district account")
@click.option("--hotline", default=None, help="the number residents call, e.g. 0532-83880001")
@click.option("--template", "templates", multiple=True, help="KEY=TEMPLATE_ID, repeatable")
def add_account(code, appid, token, aes_key, secret, name, community, hotline, templates):
    """Register an account, or update the one with this code."""
    try:
        pairs = dict(t.split("=", 1) for t in templates)
    except ValueError:
        raise click.BadParameter("write --template KEY=TEMPLATE_ID") from None
    try:
        account, created = accounts.add_account(code, name, appid, token, secret, aes_key=aes_key,
                                                community_code=community, hotline=hotline, templates=pairs)
    except AppError as exc:
        raise click.ClickException(exc.message) from exc
    where = account.community.name if account.community else "区级（不属于某个社区）"
    click.echo(f"{'added' if created else 'updated'} account {account.code} ({account.name}, {where}); "
               f"callback URL: /wechat/{account.code}")


@wechat.command("list")
def list_accounts():
    """Every account, with secrets masked."""
    rows = accounts.all_accounts()
    if not rows:
        click.echo("no accounts yet: flask wechat add-account CODE --appid … --token … --secret …")
    for a in rows:
        community = a.community.code if a.community else "-"
        click.echo(f"{a.code:<20} {a.name:<12} appid={a.appid} community={community} hotline={a.hotline or '-'} "
                   f"token={accounts.mask(a.token)} aes_key={accounts.mask(a.aes_key)} "
                   f"secret={accounts.mask(a.secret)} templates={json.dumps(a.templates or {}, ensure_ascii=False)}")
