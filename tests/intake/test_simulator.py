"""The demo's WeChat simulator: a message typed there goes through the real callback and opens a ticket."""
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.intake.media_jobs import run_media_fetches
from dispatch.tickets.models import Ticket
from tests.conftest import csrf_from
from tests.intake.test_wechat_media import jpeg_with_gps


def test_a_note_typed_in_the_simulator_becomes_a_ticket(app, client, account, wechat_api):
    app.config["WECHAT_STUB"] = True
    try:
        token = csrf_from(client, "/dev/wechat?account=yanchenglu")
        sent = client.post("/dev/wechat", data={"csrf_token": token, "account": "yanchenglu", "openid": "o_sim",
                                                "kind": "text", "content": "南京路8号楼下井盖丢了"},
                           follow_redirects=True)
        page = sent.get_data(as_text=True)
        ticket = db.session.scalars(select(Ticket)).one()
        assert sent.status_code == 200 and ticket.number in page and "井盖" in page
        assert 'href="tel:0532-83880001"' in page and "&lt;a" not in page
        import io
        photo = client.post("/dev/wechat", data={"csrf_token": token, "account": "yanchenglu", "openid": "o_sim",
                                                 "kind": "image", "photo": (io.BytesIO(jpeg_with_gps()), "p.jpg")},
                            content_type="multipart/form-data", follow_redirects=True)
        assert "照片已补充到工单" in photo.get_data(as_text=True) and "「这是新问题」" in photo.get_data(as_text=True)
        assert "&lt;a" not in photo.get_data(as_text=True)
        assert run_media_fetches(app.config["CLOCK"]()) == 1
    finally:
        app.config["WECHAT_STUB"] = False


def test_the_simulator_and_the_stub_do_not_exist_outside_the_demo(app, client, account):
    app.config["WECHAT_STUB"] = False
    assert client.get("/dev/wechat").status_code == 404
    assert client.post("/_stub/wechat/cgi-bin/stable_token", json={"appid": "x", "secret": "y"}).status_code == 404
