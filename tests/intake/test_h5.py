"""The residents' H5 pages through the real HTTP layer: OAuth against the stub over HTTP, report, my tickets, rating."""
import io
import os
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import g
from PIL import ExifTags, Image
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.org.models import Resident
from dispatch.org.principal import Principal
from dispatch.tickets import pipeline
from dispatch.tickets.lifecycle import Status
from dispatch.tickets.models import Channel, Ticket, TicketEvent, TicketPhoto

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TICKET_PAGE = re.compile(r"^/h5/(?P<code>[a-z]+)/tickets/(?P<number>\d{8}-\d{4})$")


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def page_text(response):
    return response.get_data(as_text=True)


def jpeg_with_exif(size=(640, 480)):
    """A phone-like JPEG carrying a camera make and a GPS position in its EXIF."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (36.0, 3.0, 42.5)
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png(size=(300, 200)):
    out = io.BytesIO()
    Image.new("RGB", size, (30, 30, 200)).save(out, "PNG")
    return out.getvalue()


class OwnBrowser:
    """A test client that forgets the CSRF token Flask-WTF caches on `g`.

    Requests of the test client share the test's app context, hence its `g`; in production every
    request has its own. Without this, a second resident's form would carry the first one's token.
    """

    def __init__(self, app):
        self.client = app.test_client()

    def get(self, *args, **kwargs):
        g.pop("csrf_token", None)
        return self.client.get(*args, **kwargs)

    def post(self, *args, **kwargs):
        g.pop("csrf_token", None)
        return self.client.post(*args, **kwargs)


class ResidentPhone:
    """One resident's browser: its own cookie jar, signed in through OAuth via the stub over real HTTP."""

    def __init__(self, app, code="yanchenglu", openid=None):
        self.client, self.code, self.openid = OwnBrowser(app), code, openid

    def url(self, page):
        return f"/h5/{self.code}{page}"

    def start(self, page="/report"):
        """Ask for a page without a session: the redirect to WeChat's authorize URL."""
        response = self.client.get(self.url(page))
        assert response.status_code == 302, page_text(response)
        return response.headers["Location"]

    def authorize(self, authorize_url):
        """What the resident's browser does at WeChat: follow the authorize URL to our redirect_uri."""
        cookies = {"stub_openid": self.openid} if self.openid else None
        hop = requests.get(authorize_url, cookies=cookies, allow_redirects=False, timeout=10)
        assert hop.status_code == 302
        back = urlsplit(hop.headers["Location"])
        return f"{back.path}?{back.query}"

    def sign_in(self, page="/report"):
        """The whole round trip; returns the response of our /oauth."""
        return self.client.get(self.authorize(self.start(page)))

    def csrf(self, page="/report"):
        return CSRF.search(page_text(self.client.get(self.url(page)))).group(1)

    def post_report(self, photos=(), **fields):
        """Submit the report form as a browser would (multipart, CSRF token from the form)."""
        data = {"csrf_token": self.csrf(), "description": "", "address": "", "phone": "", "category": "",
                **fields}
        data["photos"] = [(io.BytesIO(content), name) for name, content in photos] or [(io.BytesIO(b""), "")]
        return self.client.post(self.url("/report"), data=data, content_type="multipart/form-data")

    def report(self, description="3号楼2单元楼道灯坏了", **fields):
        """Report a problem and return the new ticket's number."""
        response = self.post_report(description=description, **fields)
        assert response.status_code == 302, page_text(response)
        return TICKET_PAGE.match(response.headers["Location"]).group("number")

    def rate(self, number, **fields):
        """POST the rating form (the CSRF token is the session's, read from any form)."""
        return self.client.post(self.url(f"/tickets/{number}/rating"), data={"csrf_token": self.csrf(), **fields})


@pytest.fixture
def resident(app, wechat_api, account):
    """A resident of 盐城路社区's account, signed in (the stub's default openid)."""
    person = ResidentPhone(app)
    assert person.sign_in().status_code == 302
    return person


@pytest.fixture
def neighbour(app, wechat_api, account):
    """Another resident of the same account, signed in with another openid."""
    person = ResidentPhone(app, openid="o_neighbour")
    assert person.sign_in().status_code == 302
    return person


def ticket_by_number(number):
    return db.session.scalar(select(Ticket).where(Ticket.number == number))


def resolve(org, number, note="已更换楼道灯泡，恢复照明"):
    """Staff accept and resolve the ticket, as the console would."""
    director = Principal.from_user(org.director)
    ticket = ticket_by_number(number)
    pipeline.act(director, ticket, "accept")
    pipeline.act(director, ticket, "resolve", note=note)
    return ticket


# ---- OAuth ----

def test_oauth_round_trip_signs_the_resident_in_and_returns_to_the_page(app, wechat_api, account, stub_server):
    person = ResidentPhone(app)
    authorize = person.start("/tickets?from=menu")
    parts = urlsplit(authorize)
    query = parse_qs(parts.query)
    assert authorize.startswith(stub_server + "/connect/oauth2/authorize?") and parts.fragment == "wechat_redirect"
    assert query["appid"] == [account.appid] and query["scope"] == ["snsapi_base"]
    assert query["response_type"] == ["code"] and re.fullmatch(r"[0-9a-f]{32}", query["state"][0])
    assert query["redirect_uri"] == [app.config["PUBLIC_BASE_URL"].rstrip("/") + "/h5/yanchenglu/oauth"]

    back = person.client.get(person.authorize(authorize))
    assert back.status_code == 302 and back.headers["Location"] == "/h5/yanchenglu/tickets?from=menu"
    page = person.client.get("/h5/yanchenglu/tickets?from=menu")
    assert page.status_code == 200 and "您还没有反映过问题" in page_text(page)
    row = db.session.scalar(select(Resident).where(Resident.openid == wechat_api.default_openid))
    assert row.account_code == "yanchenglu" and row.community_id == account.community_id


def test_a_wrong_state_is_refused_with_a_way_back_and_no_sign_in(app, wechat_api, account):
    person = ResidentPhone(app)
    back = person.authorize(person.start("/tickets"))
    forged = re.sub(r"state=[0-9a-f]+", "state=" + "0" * 32, back)
    response = person.client.get(forged)
    assert response.status_code == 400
    assert "登录链接已经失效" in page_text(response) and 'href="/h5/yanchenglu/"' in page_text(response)
    assert person.client.get("/h5/yanchenglu/tickets").status_code == 302  # still not signed in
    for odd in ("", "状态", "x" * 300):
        assert person.client.get("/h5/yanchenglu/oauth", query_string={"code": "c", "state": odd}).status_code == 400
    assert person.client.get("/h5/yanchenglu/oauth").status_code == 400
    assert count(Resident) == 0


def test_a_bad_or_reused_code_shows_a_retry_page_not_a_500(app, wechat_api, account):
    person = ResidentPhone(app)
    back = person.authorize(person.start("/tickets"))
    bogus = re.sub(r"code=[^&]+", "code=not-a-real-code", back)
    response = person.client.get(bogus)
    assert response.status_code == 400
    text = page_text(response)
    assert "微信登录没有成功" in text and 'href="/h5/yanchenglu/tickets"' in text
    assert person.client.get("/h5/yanchenglu/tickets").status_code == 302

    other = ResidentPhone(app)
    back = other.authorize(other.start("/report"))
    assert other.client.get(back).status_code == 302
    replay = ResidentPhone(app)  # a code is single use, even with a valid state of one's own
    state = parse_qs(urlsplit(replay.start("/report")).query)["state"][0]
    reused = re.sub(r"state=[0-9a-f]+", f"state={state}", back)
    assert replay.client.get(reused).status_code == 400


def test_unknown_account_and_unknown_page_answer_the_h5_404(app, wechat_api, account, resident):
    missing = ResidentPhone(app, code="nowhere").client.get("/h5/nowhere/report")
    assert missing.status_code == 404 and "找不到这个公众号的页面" in page_text(missing)
    assert "h5.css" in page_text(missing)
    other = resident.client.get("/h5/yanchenglu/nothing-here")
    assert other.status_code == 404 and "h5.css" in page_text(other)


# ---- the report form ----

def test_the_form_is_chinese_large_and_offers_every_category_with_an_icon(resident):
    page = resident.client.get("/h5/yanchenglu/report")
    text = page_text(page)
    assert page.status_code == 200 and '<html lang="zh-CN">' in text
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in text
    assert "console.css" not in text and not re.search(r'(src|href)="(https?:)?//', text)  # nothing from a CDN
    for code in ("water_power", "lighting", "elderly_care", "other"):
        assert f'value="{code}"' in text
    assert text.count('class="icon"') == 14  # 13 categories and "不清楚"
    assert 'accept="image/*" multiple' in text and 'href="tel:0532-83880001"' in text
    assert 'enctype="multipart/form-data"' in text and CSRF.search(text)


def test_a_report_with_two_photos_opens_a_ticket_with_clean_photos(app, resident, org, clock):
    response = resident.post_report(
        description="我单元3楼的走廊灯坏了，晚上看不见台阶", address="古田路16号3号楼2单元", phone="138 1234 5678",
        category="lighting", photos=[("IMG_0001.jpg", jpeg_with_exif()), ("screen.png", png())])
    assert response.status_code == 302
    number = TICKET_PAGE.match(response.headers["Location"]).group("number")
    page = resident.client.get(response.headers["Location"])
    text = page_text(page)
    assert page.status_code == 200 and "提交成功" in text and number in text and "联系您" in text

    ticket = ticket_by_number(number)
    assert ticket.channel is Channel.WEB_FORM and ticket.community_id == org.c1.id
    assert ticket.category.code == "lighting" and ticket.address == "古田路16号3号楼2单元"
    assert ticket.resident.openid == "o_demo_resident" and ticket.resident.phone == "13812345678"
    photos = db.session.scalars(select(TicketPhoto).where(TicketPhoto.ticket_id == ticket.id)).all()
    assert len(photos) == 2 and all(p.thumbnail_key and p.content_type == "image/jpeg" for p in photos)
    media = Path(app.config["MEDIA_DIR"])
    kept = (media / photos[0].storage_key).read_bytes()
    assert b"Exif" not in kept and b"PhoneMaker" not in kept
    assert not Image.open(io.BytesIO(kept)).getexif()
    assert Image.open(media / photos[0].thumbnail_key).size[0] <= 320
    kinds = [e.kind for e in ticket.events]
    assert kinds.count("photo_added") == 2 and kinds[0] == "created"

    thumb = resident.client.get(f"/h5/yanchenglu/media/{photos[0].thumbnail_key}")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg" and "private" in thumb.headers["Cache-Control"]
    assert f'href="/h5/yanchenglu/media/{photos[0].storage_key}"' in text
    assert f'src="/h5/yanchenglu/media/{photos[0].thumbnail_key}"' in text


def test_a_non_image_is_refused_and_what_was_typed_is_kept(app, resident):
    words = "小区门口的路灯一直不亮，已经一个星期了"
    stored_before = set(Path(app.config["MEDIA_DIR"]).rglob("*"))
    response = resident.post_report(description=words, address="福州南路88号", phone="13912345678",
                                    category="lighting", photos=[("ok.jpg", jpeg_with_exif()),
                                                                 ("notes.txt", b"this is not a picture")])
    text = page_text(response)
    assert response.status_code == 400
    assert "第 2 张（notes.txt）文件不是图片" in text and "文字已为您保留" in text
    assert f">{words}</textarea>" in text and 'value="福州南路88号"' in text and 'value="13912345678"' in text
    assert re.search(r'value="lighting"\s+checked', text)
    assert count(Ticket) == 0 and count(TicketPhoto) == 0
    assert set(Path(app.config["MEDIA_DIR"]).rglob("*")) == stored_before  # nothing kept of a refused report


def test_more_than_nine_photos_are_refused(resident):
    response = resident.post_report(description="垃圾堆了好几天没人清", photos=[(f"p{i}.png", png()) for i in range(10)])
    assert response.status_code == 400
    assert "照片最多 9 张，您选了 10 张" in page_text(response) and count(Ticket) == 0


def test_nine_photos_are_accepted(resident):
    number = resident.report("垃圾堆了好几天没人清", photos=[(f"p{i}.png", png((40, 40))) for i in range(9)])
    assert len(ticket_by_number(number).photos) == 9


def noise_png(side=200):
    """A PNG that does not compress: about 3 bytes a pixel."""
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, "PNG")
    return out.getvalue()


def test_the_report_form_accepts_more_than_the_app_wide_upload_limit(app, resident, monkeypatch):
    photos = [(f"p{i}.png", noise_png()) for i in range(3)]
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", sum(len(p) for _, p in photos) // 2)
    number = resident.report("楼道里堆满了杂物", photos=photos)
    assert len(ticket_by_number(number).photos) == 3


def test_an_upload_over_the_form_limit_gets_a_plain_page_not_a_crash(app, resident, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_PHOTO_BYTES", 10_000)  # the form's limit: 9 × that + 1 MiB
    response = resident.post_report(description="楼道灯坏了", photos=[("huge.jpg", os.urandom(1_300_000))])
    text = page_text(response)
    assert response.status_code == 413 and "照片太大了" in text and "h5.css" in text and count(Ticket) == 0


def test_a_photo_over_the_size_limit_is_named(app, resident, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_PHOTO_BYTES", 50_000)
    response = resident.post_report(description="楼道灯坏了", photos=[("big.png", noise_png())])
    assert response.status_code == 400 and "第 1 张（big.png）图片过大" in page_text(response)


@pytest.mark.parametrize("fields, message", [
    ({"description": "   "}, "请写下您遇到的问题"),
    ({"description": "灯" * 2001}, "问题描述最多 2000 字，现在是 2001 字"),
    ({"description": "楼道灯坏了", "phone": "12345"}, "请填写手机号"),
    ({"description": "楼道灯坏了", "phone": "+1 415 555 0100"}, "请填写手机号"),
    ({"description": "楼道灯坏了", "category": "no_such_thing"}, "请从列表中选择问题类型"),
    ({"description": "楼道灯坏了", "address": "路" * 201}, "地址最多 200 字"),
])
def test_invalid_reports_are_re_rendered_with_a_message(resident, fields, message):
    response = resident.post_report(**fields)
    assert response.status_code == 400 and message in page_text(response)
    assert 'role="alert"' in page_text(response) and count(Ticket) == 0


@pytest.mark.parametrize("typed, kept", [("0532-83880001", "0532-83880001"), ("+86 139 1234 5678", "13912345678"),
                                         ("01088886666", "010-88886666")])
def test_mainland_mobiles_and_landlines_are_accepted(resident, typed, kept):
    number = resident.report(phone=typed)
    assert ticket_by_number(number).resident.phone == kept


def test_the_form_remembers_the_phone_and_last_address(resident):
    resident.report(address="古田路16号3号楼2单元", phone="13812345678")
    text = page_text(resident.client.get("/h5/yanchenglu/report"))
    assert 'value="古田路16号3号楼2单元"' in text and 'value="13812345678"' in text


def test_a_post_without_the_csrf_token_is_refused_kindly(resident):
    response = resident.client.post("/h5/yanchenglu/report", data={"description": "灯坏了"})
    assert response.status_code == 400 and "页面已过期" in page_text(response) and count(Ticket) == 0


# ---- my tickets and one ticket ----

def test_my_tickets_lists_only_mine_newest_first(resident, neighbour, clock):
    first = resident.report("3号楼楼道灯坏了")
    clock.advance(minutes=5)
    theirs = neighbour.report("邻居家漏水到我家了")
    clock.advance(minutes=5)
    second = resident.report("小区垃圾没人清")
    text = page_text(resident.client.get("/h5/yanchenglu/tickets"))
    assert second in text and first in text and theirs not in text and "邻居家漏水" not in text
    assert text.index(second) < text.index(first)
    assert "已收到" in text and "待受理" not in text
    assert theirs in page_text(neighbour.client.get("/h5/yanchenglu/tickets"))


def test_another_residents_ticket_is_a_404_like_a_missing_one(resident, neighbour):
    mine = resident.report("楼道灯坏了", photos=[("a.png", png())])
    photo = ticket_by_number(mine).photos[0]
    stranger = neighbour.client.get(f"/h5/yanchenglu/tickets/{mine}")
    missing = neighbour.client.get("/h5/yanchenglu/tickets/20991231-9999")
    assert stranger.status_code == missing.status_code == 404
    assert page_text(stranger) == page_text(missing).replace("20991231-9999", mine)
    assert neighbour.client.get(f"/h5/yanchenglu/media/{photo.storage_key}").status_code == 404
    assert neighbour.client.get(f"/h5/yanchenglu/media/{photo.thumbnail_key}").status_code == 404
    assert resident.client.get(f"/h5/yanchenglu/media/{photo.storage_key}").status_code == 200
    rated = neighbour.rate(mine, rating="unsatisfied")
    assert rated.status_code == 404 and ticket_by_number(mine).status is Status.NEW


def test_the_same_openid_on_another_account_is_another_resident(app, resident, district_account, wechat_api):
    mine = resident.report("楼道灯坏了")
    elsewhere = ResidentPhone(app, code="shinan")
    assert elsewhere.sign_in().status_code == 302
    assert elsewhere.client.get(f"/h5/shinan/tickets/{mine}").status_code == 404


def test_the_ticket_page_shows_the_residents_steps_not_staff_notes(resident, org):
    number = resident.report("楼道灯坏了")
    director = Principal.from_user(org.director)
    ticket = ticket_by_number(number)
    pipeline.act(director, ticket, "comment", "内部备注：这位住户上周也报过")
    pipeline.act(director, ticket, "accept")
    pipeline.act(director, ticket, "resolve", note="已更换楼道灯泡")
    text = page_text(resident.client.get(f"/h5/yanchenglu/tickets/{number}"))
    assert "您反映了问题" in text and "社区已收到，正在安排人员" in text and "已更换楼道灯泡" in text
    assert "内部备注" not in text and "盐城路主任" not in text
    assert text.index("已办好</strong>") < text.index("您反映了问题")  # newest first
    assert 'href="tel:0532-83880001"' in text


# ---- rating ----

def test_rating_satisfied_closes_the_ticket(resident, org, clock):
    number = resident.report("楼道灯坏了")
    resolve(org, number)
    page = page_text(resident.client.get(f"/h5/yanchenglu/tickets/{number}"))
    assert "请您评价" in page and 'value="basically_satisfied"' in page
    assert "已办好，请您评价" in page_text(resident.client.get("/h5/yanchenglu/tickets"))
    clock.advance(hours=2)
    response = resident.rate(number, rating="satisfied", comment="修得很快，谢谢")
    assert response.status_code == 302
    ticket = ticket_by_number(number)
    assert ticket.status is Status.CLOSED and ticket.rating == "satisfied"
    assert ticket.rating_comment == "修得很快，谢谢" and ticket.rated_at == clock()
    kinds = [e.kind for e in ticket.events]
    assert kinds[-2:] == ["rated", "close"] and ticket.events[-2].actor_label == "居民（微信）"
    after = page_text(resident.client.get(response.headers["Location"]))
    assert "谢谢您的评价" in after and "请您评价" not in after and "修得很快，谢谢" in after


def test_basically_satisfied_also_closes(resident, org):
    number = resident.report("楼道灯坏了")
    resolve(org, number)
    assert resident.rate(number, rating="basically_satisfied").status_code == 302
    assert ticket_by_number(number).status is Status.CLOSED


def test_rating_unsatisfied_reopens_the_ticket_with_the_reason(resident, org):
    number = resident.report("楼道灯坏了")
    resolve(org, number)
    assert resident.rate(number, rating="unsatisfied", comment="灯还是不亮").status_code == 302
    ticket = ticket_by_number(number)
    assert ticket.status is Status.REOPENED and ticket.rating == "unsatisfied"
    reopen = db.session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                         TicketEvent.kind == "reopen"))
    assert reopen.note == "居民不满意：灯还是不亮"
    again = resident.rate(number, rating="satisfied")
    assert again.status_code == 409 and "已经评价过" in page_text(again)
    # redone and resolved again: the new result can be rated
    pipeline.act(Principal.from_user(org.director), ticket, "resolve", note="换了整套灯具")
    assert resident.rate(number, rating="satisfied").status_code == 302
    assert ticket_by_number(number).status is Status.CLOSED


def test_rating_before_the_ticket_is_resolved_is_refused(resident, org):
    number = resident.report("楼道灯坏了")
    page = page_text(resident.client.get(f"/h5/yanchenglu/tickets/{number}"))
    assert "请您评价" not in page
    response = resident.rate(number, rating="satisfied")
    assert response.status_code == 409 and "问题办好以后才能评价" in page_text(response)
    ticket = ticket_by_number(number)
    assert ticket.status is Status.NEW and ticket.rating is None
    assert "rated" not in [e.kind for e in ticket.events]


def test_a_rating_needs_a_choice(resident, org):
    number = resident.report("楼道灯坏了")
    resolve(org, number)
    response = resident.rate(number, comment="还行")
    assert response.status_code == 400 and "请选择「满意」「基本满意」或「不满意」" in page_text(response)
    assert ">还行</textarea>" in page_text(response)
    assert ticket_by_number(number).status is Status.RESOLVED


def test_the_rating_form_offers_a_redo_chosen_by_default(resident, org):
    number = resident.report("楼道灯坏了")
    resolve(org, number)
    page = page_text(resident.client.get(f"/h5/yanchenglu/tickets/{number}"))
    assert "如果不满意，要不要重新办理？" in page and "不用重新办理，只提意见" in page
    assert '<input type="radio" name="redo" value="1" checked>' in page
    assert '<input type="radio" name="redo" value="0" >' in page


def test_unsatisfied_with_a_redo_reopens_the_ticket(resident, org):
    number = resident.report("楼道灯坏了")
    resolve(org, number)
    response = resident.rate(number, rating="unsatisfied", redo="1", comment="灯还是不亮")
    ticket = ticket_by_number(number)
    assert ticket.status is Status.REOPENED and ticket.rating == "unsatisfied"
    rated, reopen = ticket.events[-2:]
    assert (rated.kind, reopen.kind, reopen.note) == ("rated", "reopen", "居民不满意：灯还是不亮")
    assert rated.data == {"rating": "unsatisfied", "comment": "灯还是不亮", "source": "resident", "redo": True}
    assert "我们会重新办理" in page_text(resident.client.get(response.headers["Location"]))


def test_unsatisfied_without_a_redo_keeps_the_opinion_and_closes(resident, org, clock):
    number = resident.report("楼道灯坏了")
    resolve(org, number)
    clock.advance(hours=3)
    response = resident.rate(number, rating="unsatisfied", redo="0", comment="修得太慢了，下次快一点")
    assert response.status_code == 302
    ticket = ticket_by_number(number)
    assert ticket.status is Status.CLOSED and ticket.closed_at == clock()
    assert (ticket.rating, ticket.rating_comment) == ("unsatisfied", "修得太慢了，下次快一点")
    rated, close = ticket.events[-2:]
    assert rated.data == {"rating": "unsatisfied", "comment": "修得太慢了，下次快一点", "source": "resident",
                          "redo": False}
    assert close.kind == "close" and close.note == "居民不满意，但不需要重新办理：修得太慢了，下次快一点"
    assert "reopen" not in [e.kind for e in ticket.events]
    after = page_text(resident.client.get(response.headers["Location"]))
    assert "不再重新办理" in after and "请您评价" not in after and "修得太慢了，下次快一点" in after
    assert resident.rate(number, rating="satisfied").status_code == 409


def test_a_refused_rating_keeps_the_redo_choice_as_picked(resident, org):
    number = resident.report("楼道灯坏了")
    resolve(org, number)
    response = resident.rate(number, rating="unsatisfied", redo="0", comment="太" * 501)
    assert response.status_code == 400 and "意见最多 500 字" in page_text(response)
    assert '<input type="radio" name="redo" value="0" checked>' in page_text(response)
    assert ticket_by_number(number).status is Status.RESOLVED


# ---- the district account ----

def test_the_district_account_asks_for_the_community_and_remembers_it(app, wechat_api, district_account, org):
    person = ResidentPhone(app, code="shinan", openid="o_district_1")
    assert person.sign_in().status_code == 302
    form = page_text(person.client.get("/h5/shinan/report"))
    assert '<select id="community" name="community"' in form and "盐城路社区" in form and "香港花园社区" in form
    assert '<optgroup label="湛山街道">' in form

    refused = person.post_report(description="楼道灯坏了，请派人修")
    assert refused.status_code == 400 and "请选择您所在的社区" in page_text(refused) and count(Ticket) == 0
    assert ">楼道灯坏了，请派人修</textarea>" in page_text(refused)

    number = person.report("楼道灯坏了，请派人修", community="fuzhoulu")
    ticket = ticket_by_number(number)
    assert ticket.community_id == org.c2.id and ticket.resident.community_id == org.c2.id
    again = page_text(person.client.get("/h5/shinan/report"))
    assert '<input type="radio" name="community" value="fuzhoulu" checked>' in again  # the short list: theirs
    second = person.report("门口垃圾没人清")  # the remembered community needs no second choice
    assert ticket_by_number(second).community_id == org.c2.id
    assert 'href="tel:0532-83880002"' in page_text(person.client.get(f"/h5/shinan/tickets/{number}"))


def test_an_unknown_community_is_refused(app, wechat_api, district_account, org):
    person = ResidentPhone(app, code="shinan", openid="o_district_2")
    person.sign_in()
    response = person.post_report(description="楼道灯坏了", community="atlantis")
    assert response.status_code == 400 and "请选择您所在的社区" in page_text(response) and count(Ticket) == 0


def test_with_a_triage_community_the_district_resident_may_leave_the_community_open(app, wechat_api, district_account,
                                                                                    org, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_TRIAGE_COMMUNITY", "xiangganghuayuan")
    person = ResidentPhone(app, code="shinan", openid="o_district_3")
    person.sign_in()
    assert "不清楚，请工作人员帮我转" in page_text(person.client.get("/h5/shinan/report"))
    ticket = ticket_by_number(person.report("楼道灯坏了"))
    assert ticket.community_id == org.c3.id and ticket.resident.community_id is None


def test_the_same_report_sent_again_soon_does_not_open_a_second_ticket(resident, clock):
    photo = ("a.png", png())
    first = resident.report("楼道灯坏了，请派人修", photos=[photo])
    clock.advance(minutes=3)
    again = resident.post_report(description="楼道灯坏了，请派人修", photos=[photo, ("b.png", png((50, 60)))])
    assert again.headers["Location"].endswith(first) and count(Ticket) == 1
    assert count(TicketPhoto) == 2  # the photo added on the way back joins; the same one is not kept twice
    assert "已经提交过了" in page_text(resident.client.get(again.headers["Location"]))
    clock.advance(minutes=10)
    assert resident.report("楼道灯坏了，请派人修") != first
