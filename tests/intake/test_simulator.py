"""The demo's WeChat simulator: a message typed there goes through the real callback and opens a ticket."""
import re

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


LINK = re.compile(r'<a href="(http://localhost/h5/yanchenglu/tickets/[^"]+)">查看办理进度</a>')


def _play(client, openid, note):
    """Be this resident in the simulator and send a note; the reply's link to the new ticket."""
    token = csrf_from(client, f"/dev/wechat?account=yanchenglu&openid={openid}")
    page = client.post("/dev/wechat", data={"csrf_token": token, "account": "yanchenglu", "openid": openid,
                                            "kind": "text", "content": note}, follow_redirects=True)
    return LINK.findall(page.get_data(as_text=True))[-1]


def test_the_simulator_plays_any_resident_and_each_link_opens_their_own_ticket(app, client, account, wechat_api,
                                                                              monkeypatch):
    # The development app: the stub mounted on this server, links following the address the browser used.
    monkeypatch.setitem(app.config, "WECHAT_STUB", True)
    monkeypatch.setitem(app.config, "BASE_URLS_FROM_REQUEST", True)
    monkeypatch.setitem(app.config, "WECHAT_OPEN_BASE_URL", app.config["PUBLIC_BASE_URL"] + "/_stub/wechat")
    zhang_link = _play(client, "o_zhang", "南京路8号楼下井盖丢了")
    li_link = _play(client, "o_li", "湛山路3号楼道灯不亮了")
    zhang, li = (db.session.scalars(select(Ticket).where(Ticket.description.contains(word))).one()
                 for word in ("井盖", "楼道灯"))
    assert zhang_link.endswith(zhang.number) and li_link.endswith(li.number)
    # Playing 李 now: the link goes through the stub's OAuth and signs this browser in as 李.
    page = client.get(li_link, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and li.number in text and "楼道灯" in text and "找不到" not in text
    assert page.request.path == f"/h5/yanchenglu/tickets/{li.number}"
    assert li.resident.openid == "o_li" and zhang.resident.openid == "o_zhang"
    # Switching back to 张 and following his link opens his ticket, not 李's session.
    client.get("/dev/wechat?account=yanchenglu&openid=o_zhang")
    page = client.get(zhang_link, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and zhang.number in text and "井盖" in text and "找不到" not in text
    # And 张 cannot open 李's ticket: the switch really changed who this browser is.
    assert "找不到" in client.get(li_link, follow_redirects=True).get_data(as_text=True)
