"""A volunteer opens the desk from the official account's menu: WeChat OAuth against the stub over real HTTP."""
from urllib.parse import parse_qs, urlsplit

import requests

from dispatch.extensions import db
from dispatch.teams.models import Volunteer

OPENID = "o_volunteer_li"


def bind(user, openid=OPENID):
    """Give the volunteer a profile holding this openid, as the director does on the team page."""
    db.session.add(Volunteer(user=user, skills=["electrical"], openid=openid))
    db.session.commit()


def through_wechat(client, start, openid=OPENID):
    """Follow the desk's login link to the stub's authorize page and back; the response of our return."""
    first = client.get(start)
    assert first.status_code == 302
    authorize = first.headers["Location"]
    hop = requests.get(authorize, cookies={"stub_openid": openid}, allow_redirects=False, timeout=10)
    back = urlsplit(hop.headers["Location"])
    return client.get(f"{back.path}?{back.query}"), authorize


def test_a_bound_volunteer_signs_in_silently_and_lands_on_the_task_asked_for(client, org, wechat_api, account):
    bind(org.volunteer)
    response, authorize = through_wechat(client, "/login/wechat/yanchenglu?next=/desk/")
    query = parse_qs(urlsplit(authorize).query)
    assert query["scope"] == ["snsapi_base"] and query["appid"] == [account.appid]
    assert query["redirect_uri"][0].endswith("/login/wechat/return")
    assert response.status_code == 302 and response.location.endswith("/desk/")
    assert "我的任务" in client.get("/desk/").get_data(as_text=True)


def test_an_unbound_openid_is_refused_with_the_way_to_bind(client, org, wechat_api, account):
    bind(org.volunteer)
    response, _ = through_wechat(client, "/login/wechat/yanchenglu", openid="o_stranger")
    body = response.get_data(as_text=True)
    assert response.status_code == 403 and "还没有绑定志愿者账号" in body and "绑定二维码" in body
    assert "o_stranger" not in body  # nobody copies an openid any more: the director shows a QR code
    assert client.get("/desk/").status_code == 302  # still not signed in


def test_an_inactive_volunteer_cannot_sign_in_through_wechat(client, org, wechat_api, account):
    bind(org.volunteer)
    org.volunteer.active = False
    db.session.commit()
    response, _ = through_wechat(client, "/login/wechat/yanchenglu")
    assert response.status_code == 403


def test_a_forged_state_or_unknown_account_is_a_clear_4xx(client, org, wechat_api, account):
    bind(org.volunteer)
    assert client.get("/login/wechat/nowhere").status_code == 404
    client.get("/login/wechat/yanchenglu")
    forged = client.get("/login/wechat/return", query_string={"code": "x", "state": "not-mine"})
    assert forged.status_code == 400 and "已经失效" in forged.get_data(as_text=True)
    assert client.get("/login/wechat/return").status_code == 400


def test_a_next_page_off_the_site_is_ignored(client, org, wechat_api, account):
    bind(org.volunteer)
    response, _ = through_wechat(client, "/login/wechat/yanchenglu?next=https://evil.example/")
    assert response.status_code == 302 and response.location.endswith("/desk/")


def test_a_backslash_next_is_not_followed(client, org, wechat_api, account):
    bind(org.volunteer)
    response, _ = through_wechat(client, "/login/wechat/yanchenglu?next=/\\evil.example/")
    assert response.status_code == 302 and response.location.endswith("/desk/")
