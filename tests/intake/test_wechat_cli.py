"""flask wechat add-account / list: idempotent, validated, secrets never printed whole."""
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.wechat.models import WeChatAccount

AES = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_add_account_then_update_and_list_masks_secrets(app, org):
    args = ["wechat", "add-account", "fuzhoulu", "--appid", "wx00112233445566ff", "--token", "fzlToken",
            "--aes-key", AES, "--secret", "topsecretvalue1234567890", "--community", "fuzhoulu",
            "--hotline", "0532-83880002", "--template", "status=TPL_abc"]
    first = run(app, *args)
    assert first.exit_code == 0 and "added account fuzhoulu" in first.output and "/wechat/fuzhoulu" in first.output
    again = run(app, *args[:-2], "--template", "rating=TPL_def")
    assert again.exit_code == 0 and "updated account fuzhoulu" in again.output
    account = db.session.scalars(select(WeChatAccount)).one()
    assert account.templates == {"status": "TPL_abc", "rating": "TPL_def"} and account.community.code == "fuzhoulu"
    listing = run(app, "wechat", "list").output
    assert "fuzhoulu" in listing and "0532-83880002" in listing
    for secret in ("topsecretvalue1234567890", AES, "fzlToken"):
        assert secret not in listing


def test_bad_account_parameters_are_refused_with_reasons(app, org):
    bad = run(app, "wechat", "add-account", "x y", "--appid", "nope", "--token", "t!", "--aes-key", "short",
              "--secret", "s")
    assert bad.exit_code != 0 and "appid" in bad.output and "token" in bad.output and "aes_key" in bad.output
    unknown = run(app, "wechat", "add-account", "abc", "--appid", "wx00112233445566ff", "--token", "tok123",
                  "--secret", "s", "--community", "atlantis")
    assert unknown.exit_code != 0 and "atlantis" in unknown.output
    assert db.session.scalars(select(WeChatAccount)).all() == []
