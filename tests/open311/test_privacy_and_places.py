"""What anonymous readers may not learn, which community a request lands in, and how long a photo link works."""
from urllib.parse import parse_qs, urlparse

import pytest

from dispatch.org.principal import Principal
from dispatch.storage import storage
from dispatch.tickets import pipeline
from tests.open311.conftest import BASE
from tests.open311.test_requests_api import created_id, jpeg_bytes, ok, ticket_numbered


def test_a_return_reason_between_staff_is_not_published(client, post_request, org):
    """A volunteer's reason for returning a task stays inside; readers see only that it is being rearranged."""
    number = created_id(post_request())
    director = Principal.from_user(org.director)
    pipeline.act(director, ticket_numbered(number), "accept")
    pipeline.act(director, ticket_numbered(number), "dispatch", assignee="volunteer")
    pipeline.act(Principal.from_user(org.volunteer), ticket_numbered(number), "return",
                        note="居民脾气很差，电话13800001111别打")
    notes = ok(client.get(f"{BASE}/requests/{number}.json"))[0]["status_notes"]
    assert notes == "承办方退回，社区正在重新安排"


@pytest.mark.parametrize("scope, jurisdiction, address, status", [
    ("community:fuzhoulu", "zhuhailu", "福州路10号", 403),  # a community key cannot post in another street
    ("district", "zhuhailu", "福州路10号", 400),  # 福州路社区 is not in 珠海路街道
    ("district", "zhanshan", "福州路10号", 200),  # found by its road inside the street
])
def test_a_request_lands_only_inside_its_jurisdiction(post_request, key_for, scope, jurisdiction, address, status):
    """The jurisdiction and the key's scope both bound where a request may land."""
    answer = post_request(api_key=key_for(scope), jurisdiction_id=jurisdiction, address_string=address)
    assert answer.status_code == status, answer.get_data(as_text=True)
    if status == 200:
        assert ticket_numbered(created_id(answer)).community.code == "fuzhoulu"


def test_a_key_reads_what_everyone_reads_and_its_own_scope(client, post_request, key_for, make_ticket, org):
    """With the default policy a 香港花园 key still reads Open311 requests elsewhere, and its own phone tickets."""
    elsewhere = created_id(post_request())
    own_phone_ticket = make_ticket(community=org.c3).number
    key = key_for("community:xiangganghuayuan")
    for number in (elsewhere, own_phone_ticket):
        assert client.get(f"{BASE}/requests/{number}.json", query_string={"api_key": key}).status_code == 200


def test_tokens_need_a_key_where_reading_does(app, client, post_request, key_for):
    """With OPEN311_PUBLIC_READ=none a token is looked up with a key only."""
    post_request()
    from dispatch.open311.models import Open311Submission
    token = Open311Submission.query.one().token
    app.config["OPEN311_PUBLIC_READ"] = "none"
    try:
        assert client.get(f"{BASE}/tokens/{token}.json").status_code == 403
        assert client.get(f"{BASE}/tokens/{token}.json", query_string={"api_key": key_for()}).status_code == 200
    finally:
        app.config["OPEN311_PUBLIC_READ"] = "open311"


def test_a_photo_link_expires_and_is_not_for_shared_caches(app, client, post_request, org, clock):
    """media_url works for MEDIA_LINK_DAYS, is private to the reader's cache, and a forged expiry fails."""
    number = created_id(post_request())
    pipeline.act(Principal.from_user(org.director), ticket_numbered(number), "photo",
                 note="添加照片", data=jpeg_bytes(), storage=storage(app), max_bytes=1024 * 1024)
    link = urlparse(ok(client.get(f"{BASE}/requests/{number}.json"))[0]["media_url"])
    image = client.get(f"{link.path}?{link.query}")
    assert image.status_code == 200 and "private" in image.headers["Cache-Control"]
    forged = dict(parse_qs(link.query), exp=[str(int(parse_qs(link.query)["exp"][0]) + 30)])
    assert client.get(link.path, query_string=forged).status_code == 404
    clock.advance(days=9)
    assert client.get(f"{link.path}?{link.query}").status_code == 404


@pytest.mark.parametrize("url", ['http://a b/x.jpg', 'http://x.cn/"><img src=x onerror=alert(1)>', "http://"])
def test_a_media_url_must_be_a_plain_link(post_request, url):
    """A media_url with spaces, quotes or angle brackets, or without a host, is a 400."""
    assert post_request(media_url=url).status_code == 400


def test_a_compact_end_date_includes_its_day(client, post_request):
    """end_date=20261120 (a date alone, in ISO 8601's basic form) includes that day, like 2026-11-20."""
    number = created_id(post_request())
    for end in ("2026-11-20", "20261120"):
        found = ok(client.get(f"{BASE}/requests.json", query_string={"start_date": "2026-11-20", "end_date": end}))
        assert [r["service_request_id"] for r in found] == [number], end
