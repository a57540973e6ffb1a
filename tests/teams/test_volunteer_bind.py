"""Binding a volunteer's WeChat: the director shows a single-use QR code, the volunteer scans it in WeChat
(OAuth against the stub over real HTTP), the openid is recorded; nobody types an openid."""
import re
from urllib.parse import urlsplit

import requests
from flask import g
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.teams.models import Volunteer
from tests.conftest import csrf_from, login
from tests.teams.test_desk_wechat import through_wechat

OPENID = "o_volunteer_li"


def _profile(user):
    db.session.expire_all()
    return db.session.scalar(select(Volunteer).where(Volunteer.user_id == user.id))


def _make_link(client, user):
    """The director presses 生成绑定二维码; the bind link shown beside the QR code."""
    url = f"/teams/volunteers/{user.id}"
    response = client.post(f"{url}/bind", data={"csrf_token": csrf_from(client, url)})
    assert response.status_code == 302 and response.location.endswith("#wechat")
    page = client.get(url).get_data(as_text=True)
    assert 'src="data:image/png;base64,' in page and "还没有绑定微信" in page
    assert "openid" not in page.lower()
    return urlsplit(re.search(r"data-bind-url>([^<]+)<", page).group(1)).path


def _phone(app):
    """The volunteer's phone: another browser, with nobody logged in."""
    g.pop("_login_user", None)
    g.pop("csrf_token", None)
    return app.test_client()


def test_the_volunteer_scans_confirms_and_is_bound_and_signed_in(app, client, org, wechat_api, account):
    login(client, "director")
    link = _make_link(client, org.volunteer)
    phone = _phone(app)
    page = phone.get(link).get_data(as_text=True)
    assert "李师傅" in page and "确认绑定我的微信" in page
    response, authorize = through_wechat(phone, f"{link}/wechat", openid=OPENID)
    assert "appid=" + account.appid in authorize and "snsapi_base" in authorize
    assert response.status_code == 302 and response.location.endswith("/desk/")
    assert _profile(org.volunteer).openid == OPENID
    assert "微信绑定好了" in phone.get("/desk/").get_data(as_text=True)
    # the link is used up: scanning it again (or by someone else) binds nothing
    again = _phone(app).get(link)
    assert again.status_code == 410 and "已经用过了" in again.get_data(as_text=True)
    # and the bound WeChat signs in to the desk from the menu
    g.pop("_login_user", None)
    signed_in, _ = through_wechat(app.test_client(), "/login/wechat/yanchenglu?next=/desk/", openid=OPENID)
    assert signed_in.status_code == 302 and signed_in.location.endswith("/desk/")


def test_the_director_sees_bound_and_can_unbind(app, client, org, wechat_api, account):
    login(client, "director")
    link = _make_link(client, org.volunteer)
    through_wechat(_phone(app), f"{link}/wechat", openid=OPENID)
    g.pop("_login_user", None)
    g.pop("csrf_token", None)
    url = f"/teams/volunteers/{org.volunteer.id}"
    page = client.get(url).get_data(as_text=True)
    assert "已绑定微信" in page and "data-bind-qr" not in page
    client.post(f"{url}/unbind", data={"csrf_token": csrf_from(client, url)})
    assert _profile(org.volunteer).openid is None


def test_a_replaced_or_expired_link_binds_nothing(app, client, org, clock, wechat_api, account):
    login(client, "director")
    first = _make_link(client, org.volunteer)
    second = _make_link(client, org.volunteer)
    assert _phone(app).get(first).status_code == 410
    clock.advance(hours=25)
    expired = _phone(app).get(second)
    assert expired.status_code == 410 and "过期" in expired.get_data(as_text=True)
    assert _phone(app).get(f"{second}/wechat").status_code == 410
    assert _profile(org.volunteer).openid is None


def test_a_link_cannot_be_finished_twice_even_mid_flight(app, client, org, wechat_api, account):
    """Two phones open the same QR code at once: only the first to come back from WeChat binds."""
    login(client, "director")
    link = _make_link(client, org.volunteer)
    phone_a, phone_b = _phone(app), _phone(app)
    hops = []
    for phone, openid in ((phone_a, "o_phone_a"), (phone_b, "o_phone_b")):
        start = phone.get(f"{link}/wechat")
        hop = requests.get(start.headers["Location"], cookies={"stub_openid": openid}, allow_redirects=False,
                           timeout=10)
        back = urlsplit(hop.headers["Location"])
        hops.append((phone, f"{back.path}?{back.query}"))
    assert hops[0][0].get(hops[0][1]).status_code == 302
    g.pop("_login_user", None)
    late = hops[1][0].get(hops[1][1])
    assert late.status_code == 410 and _profile(org.volunteer).openid == "o_phone_a"


def test_the_bind_page_of_an_unknown_link_is_kind_and_a_forged_return_binds_nothing(client, org, wechat_api,
                                                                                    account):
    response = client.get("/bind/not-a-real-token")
    assert response.status_code == 410 and "重新生成" in response.get_data(as_text=True)
    forged = client.get("/bind/return", query_string={"code": "x", "state": "not-mine"})
    assert forged.status_code == 400 and "重新扫一次" in forged.get_data(as_text=True)
    assert _profile(org.volunteer) is None


def test_another_communitys_director_cannot_make_a_link(client, org):
    login(client, "director")
    url = "/teams/volunteers"
    response = client.post(f"{url}/{org.volunteer2.id}/bind", data={"csrf_token": csrf_from(client, url)})
    assert response.status_code == 404 and _profile(org.volunteer2) is None


def test_the_volunteer_location_comes_from_an_address(client, org):
    from dispatch.intake.models import PlaceName
    db.session.add_all([PlaceName(community_id=org.c1.id, name="盐城路", first=1, last=20, latitude=36.061,
                                  longitude=120.381),
                        PlaceName(community_id=org.c2.id, name="盐城路", first=21, last=None, latitude=36.07,
                                  longitude=120.39),
                        PlaceName(community_id=org.c1.id, name="盐城路小区")])
    db.session.commit()
    login(client, "director")
    url = f"/teams/volunteers/{org.volunteer.id}"
    form = {"csrf_token": csrf_from(client, url), "display_name": "李师傅", "max_tasks": "3", "address": "盐城路 25 号",
            **{f"hours_{d}": "" for d in range(7)}}
    assert client.post(url, data=form).status_code == 302
    profile = _profile(org.volunteer)
    assert (profile.latitude, profile.longitude, profile.location_label) == (36.07, 120.39, "盐城路25号")
    assert "已定位：盐城路25号" in client.get(url).get_data(as_text=True)
    form["address"] = ""  # saving without a new address keeps the position
    client.post(url, data=form)
    assert _profile(org.volunteer).location_label == "盐城路25号"
    form["address"] = "盐城路3号"
    client.post(url, data=form)
    assert _profile(org.volunteer).latitude == 36.061
    form["address"] = "盐城路小区5号楼"  # a place the gazetteer has, without a position yet
    refused = client.post(url, data=form)
    assert refused.status_code == 422 and "还没有标注位置" in refused.get_data(as_text=True)
    assert "已定位：盐城路3号" in refused.get_data(as_text=True)  # the stored one is still shown
