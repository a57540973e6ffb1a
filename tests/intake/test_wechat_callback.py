"""The callback as WeChat's servers use it: handshake, three modes, retries, hostile XML, wrong signatures."""

import pytest
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.intake.wechat_service import reply_given
from dispatch.org.models import Resident
from dispatch.tickets.models import Channel, Ticket
from dispatch.wechat.models import InboundMessage, TemplateResult
from tests.conftest import at_once
from tests.intake.conftest import TOKEN, WeChatPlayer


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_handshake_answers_echostr_only_when_signed(client, wechat):
    ok = client.get("/wechat/yanchenglu", query_string={**wechat.signed(), "echostr": "hello123"})
    assert ok.status_code == 200 and ok.data == b"hello123"
    bad = client.get("/wechat/yanchenglu", query_string={**wechat.signed(), "signature": "0" * 40, "echostr": "x"})
    assert bad.status_code == 403
    assert client.get("/wechat/nowhere", query_string=wechat.signed()).status_code == 404


@pytest.mark.parametrize("mode", ["plain", "compatible", "safe"])
def test_a_note_becomes_a_ticket_in_every_mode(wechat, account, mode):
    xml = wechat.message("text", Content="古田路16号3号楼2单元3楼楼道灯坏了，晚上看不见")
    response = wechat.post(xml, mode=mode)
    assert response.status_code == 200
    if mode != "plain":
        assert b"<Encrypt>" in response.data and "楼道灯" not in response.data.decode()
    reply = wechat.open_reply(response)
    ticket = db.session.scalars(select(Ticket)).one()
    assert ticket.channel is Channel.WECHAT_TEXT and ticket.address == "古田路16号3号楼2单元3楼"
    assert ticket.category is not None and ticket.resident.openid == "o_resident_1"
    assert reply["ToUserName"] == "o_resident_1" and reply["MsgType"] == "text"
    content = reply["Content"]
    assert ticket.number in content and "联系您" in content
    assert f"/h5/yanchenglu/tickets/{ticket.number}" in content and 'href="tel:0532-83880001"' in content
    stored = db.session.scalars(select(InboundMessage)).one()
    # The ticket's INSERT marked the message; its reply is made again from the ticket, not stored.
    assert stored.status == "opened" and "楼道灯" in stored.raw and stored.ticket_id == ticket.id
    assert stored.reply is None and reply_given(account, stored, ticket.created_at) == content


def test_a_wrong_signature_is_refused_and_nothing_is_stored(wechat, client):
    xml = wechat.message("text", Content="水管漏水")
    response = wechat.post(xml, args={"signature": "f" * 40})
    assert response.status_code == 403
    forged = WeChatPlayer(client, "yanchenglu", token="someoneElse")
    assert forged.post(xml).status_code == 403
    assert forged.post(xml, mode="safe", args={"signature": wechat.signed()["signature"]}).status_code == 403
    assert count(InboundMessage) == 0 and count(Ticket) == 0


def test_unknown_account_answers_404(client, account):
    player = WeChatPlayer(client, "no-such-account")
    assert player.post(player.message("text", Content="你好")).status_code == 404


def test_a_body_over_the_limit_is_413(wechat, app):
    response = wechat.post(wechat.message("text", Content="漏" * (app.config["WECHAT_MAX_BODY_BYTES"] // 2)))
    assert response.status_code == 413
    assert count(InboundMessage) == 0


HOSTILE = {
    "entity expansion": '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
                        "<xml><Content>&lol2;</Content></xml>",
    "external entity": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                       "<xml><Content>&xxe;</Content></xml>",
    "not xml": "这不是XML",
    "truncated": "<xml><ToUserName>gh</ToUserName><Content>",
    "wrong root": "<message><Content>hi</Content></message>",
    "empty": "",
}


@pytest.mark.parametrize("name", HOSTILE)
@pytest.mark.parametrize("mode", ["plain", "safe"])
def test_malformed_or_hostile_xml_is_a_clear_400(wechat, client, name, mode):
    body = HOSTILE[name]
    if mode == "plain":
        response = client.post("/wechat/yanchenglu", query_string=wechat.signed(), data=body.encode())
    else:
        response = wechat.post(body or "<xml></xml>", mode="safe") if body.startswith("<xml") else \
            _post_encrypted_raw(wechat, body)
    assert response.status_code == 400, response.data
    assert b"bad request" in response.data
    assert count(InboundMessage) == 0


def _post_encrypted_raw(wechat, inner):
    """Encrypt arbitrary text as if WeChat had, so the hostile part sits inside <Encrypt>."""
    from dispatch.wechat import protocol
    query = wechat.signed()
    encrypt, signature = protocol.encrypt_for(wechat.keys, inner or " ", query["nonce"], query["timestamp"])
    query.update(encrypt_type="aes", msg_signature=signature)
    return wechat.client.post("/wechat/yanchenglu", query_string=query,
                              data=f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode())


def test_garbage_in_encrypt_is_400(wechat, client):
    query = {**wechat.signed(), "encrypt_type": "aes", "msg_signature": "0" * 40}
    from dispatch.wechat import protocol
    query["msg_signature"] = protocol.sign(TOKEN, query["timestamp"], query["nonce"], "bm90LWFlcw==")
    response = client.post("/wechat/yanchenglu", query_string=query,
                           data=b"<xml><Encrypt><![CDATA[bm90LWFlcw==]]></Encrypt></xml>")
    assert response.status_code == 400


def test_retries_of_a_msgid_make_one_ticket_and_the_same_reply(wechat):
    xml = wechat.message("text", Content="燕儿岛路10号2单元门口垃圾两天没人清了")
    replies = [wechat.open_reply(wechat.post(xml, mode=mode))["Content"] for mode in ("plain", "safe", "plain")]
    assert replies[0] == replies[1] == replies[2]
    assert count(Ticket) == 1 and count(InboundMessage) == 1


def test_events_are_deduplicated_by_sender_and_create_time(wechat):
    xml = wechat.message("event", Event="subscribe", CreateTime=1763601234)
    first, second = wechat.post(xml), wechat.post(xml)
    assert first.data == second.data and "欢迎关注" in wechat.open_reply(first)["Content"]
    assert count(InboundMessage) == 1


def test_concurrent_retries_make_exactly_one_ticket(app, account):
    xml = None
    results = []

    def send():
        with app.test_client() as c:
            player = WeChatPlayer(c, "yanchenglu")
            response = player.post(xml)
            results.append((response.status_code, player.open_reply(response)["Content"]))

    xml = WeChatPlayer(None, "yanchenglu").message("text", Content="宁夏路288号5号楼1单元水管爆了，水往下流")
    db.session.commit()
    at_once(send, 6)
    db.session.expire_all()
    assert [code for code, _ in results] == [200] * 6
    assert len({reply for _, reply in results}) == 1
    assert count(Ticket) == 1 and count(InboundMessage) == 1


def test_a_message_that_fails_to_process_is_kept_and_answered(wechat, monkeypatch):
    from dispatch.tickets import categories

    def broken(*args, **kwargs):
        raise RuntimeError("classifier exploded")
    # Both ways a note opens its ticket (on arrival on PostgreSQL, else through act()) classify it.
    monkeypatch.setattr(categories, "suggest", broken)
    response, reply = wechat.say("江西路小区路灯不亮")
    assert response.status_code == 200 and "已收到" in reply["Content"]
    stored = db.session.scalars(select(InboundMessage)).one()
    assert stored.status == "failed" and "classifier exploded" in stored.error and "路灯" in stored.raw
    assert count(Ticket) == 0


def test_subscribe_welcomes_with_a_tel_link_and_unsubscribe_marks_the_resident(wechat):
    reply = wechat.open_reply(wechat.post(wechat.message("event", Event="subscribe")))
    assert "欢迎关注盐城路社区" in reply["Content"] and 'href="tel:0532-83880001"' in reply["Content"]
    response = wechat.post(wechat.message("event", Event="unsubscribe"))
    assert response.data == b"success"
    resident = db.session.scalars(select(Resident)).one()
    db.session.refresh(resident)
    assert resident.subscribed is False and resident.unsubscribed_at is not None
    wechat.post(wechat.message("event", Event="subscribe"))
    db.session.refresh(resident)
    assert resident.subscribed is True


def test_menu_my_tickets_lists_open_tickets_newest_first_and_hotline(wechat, clock):
    empty = wechat.open_reply(wechat.post(wechat.message("event", Event="CLICK", EventKey="MY_TICKETS")))
    assert "没有正在办理的工单" in empty["Content"]
    _, first = wechat.say("闽江路3号楼道灯坏了")
    clock.advance(minutes=1)
    _, second = wechat.say("南京路8号下水道堵了")
    numbers = [t.number for t in db.session.scalars(select(Ticket).order_by(Ticket.id))]
    listing = wechat.open_reply(wechat.post(wechat.message("event", Event="CLICK", EventKey="MY_TICKETS")))
    content = listing["Content"]
    assert content.index(numbers[1]) < content.index(numbers[0]) and "已收到" in content and "待受理" not in content
    other = wechat.say("延安三路5号有人摔倒了", openid="o_someone_else")
    listing = wechat.open_reply(wechat.post(wechat.message("event", Event="CLICK", EventKey="MY_TICKETS")))
    assert len([n for n in db.session.scalars(select(Ticket.number)) if n in listing["Content"]]) == 2
    hotline = wechat.open_reply(wechat.post(wechat.message("event", Event="CLICK", EventKey="HOTLINE")))
    assert 'href="tel:0532-83880001"' in hotline["Content"]
    assert other[0].status_code == 200


def test_template_delivery_reports_are_recorded_and_other_events_stored(wechat):
    response = wechat.post(wechat.message("event", Event="TEMPLATESENDJOBFINISH", MsgID="200163836",
                                          Status="failed:user block"))
    assert response.data == b"success"
    result = db.session.scalars(select(TemplateResult)).one()
    assert (result.msgid, result.status, result.openid) == ("200163836", "failed:user block", "o_resident_1")
    assert wechat.post(wechat.message("event", Event="VIEW", EventKey="http://x")).data == b"success"
    assert count(InboundMessage) == 2


def test_the_district_account_asks_for_a_community_unless_one_is_known(client, district_account, app, org):
    player = WeChatPlayer(client, "shinan", token="districtToken", appid="wxabcdefabcdef1234", aes_key=None)
    _, reply = player.say("香港中路10号路灯坏了")
    assert "哪条路、几号" in reply["Content"] and "/h5/shinan/report" in reply["Content"]  # no gazetteer rows here
    assert count(Ticket) == 0 and count(InboundMessage) == 1
    app.config["WECHAT_TRIAGE_COMMUNITY"] = "fuzhoulu"
    try:
        _, reply = player.say("香港中路10号路灯坏了")
    finally:
        app.config["WECHAT_TRIAGE_COMMUNITY"] = None
    ticket = db.session.scalars(select(Ticket)).one()
    assert ticket.community.code == "fuzhoulu" and ticket.description == "香港中路10号路灯坏了"  # said twice, kept once


def test_an_empty_note_and_unsupported_types_get_a_helpful_answer(wechat):
    _, reply = wechat.say("   ")
    assert "请写下" in reply["Content"]
    video = wechat.open_reply(wechat.post(wechat.message("video", MediaId="m1", ThumbMediaId="t1")))
    assert "文字" in video["Content"] and count(Ticket) == 0
