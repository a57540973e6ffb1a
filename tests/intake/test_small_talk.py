"""Small talk is not a ticket: thanks, acknowledgements, greetings, faces and stickers get a friendly reply, stored
raw with no ticket; every terse real report still opens one (when unsure, a ticket)."""
import pytest
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.intake import small_talk
from dispatch.org.principal import Principal
from dispatch.tickets import classifier, pipeline
from dispatch.tickets.models import Ticket
from dispatch.wechat.models import InboundMessage

from .small_talk_messages import REPORTS, SMALL_TALK

SMALL_TALK_TICKET_CEILING = 0.10  # small talk that opens a ticket (a nuisance)
REPORT_MISSED_CEILING = 0.0       # a report that opens none (a problem dropped): never


def _rates(opened):
    """(small talk that opened a ticket, reports that did not), each as (share, the messages)."""
    chatty = [t for t in SMALL_TALK if opened(t)]
    missed = [t for t in REPORTS if not opened(t)]
    return (len(chatty) / len(SMALL_TALK), chatty), (len(missed) / len(REPORTS), missed)


def _report_rates(capsys, where, rates):
    (chatty_rate, chatty), (missed_rate, missed) = rates
    with capsys.disabled():
        print(f"\nsmall talk ({where}): small talk that opened a ticket {chatty_rate:.1%} "
              f"({len(chatty)}/{len(SMALL_TALK)}) {chatty}; reports that did not {missed_rate:.1%} "
              f"({len(missed)}/{len(REPORTS)}) {missed}")
    assert missed_rate <= REPORT_MISSED_CEILING, missed
    assert chatty_rate <= SMALL_TALK_TICKET_CEILING, chatty


@pytest.mark.pure
def test_the_labelled_set_is_big_enough_and_disjoint():
    assert len(SMALL_TALK) >= 60 and len(REPORTS) >= 60 and len(SMALL_TALK) + len(REPORTS) >= 150
    assert len(set(SMALL_TALK)) == len(SMALL_TALK) and len(set(REPORTS)) == len(REPORTS)
    assert not set(SMALL_TALK) & set(REPORTS)


@pytest.mark.pure
def test_error_rates_on_the_labelled_set(capsys):
    _report_rates(capsys, "words", _rates(lambda text: small_talk.kind(text) is None))


@pytest.mark.pure
@pytest.mark.parametrize("text, kind", [
    ("谢谢", small_talk.THANKS), ("好的，谢谢", small_talk.THANKS), ("好", small_talk.ACK),
    ("收到", small_talk.ACK), ("嗯嗯", small_talk.ACK), ("您好", small_talk.GREETING),
    ("在吗", small_talk.GREETING), ("👍", small_talk.EMOJI), ("[强]", small_talk.EMOJI),
    ("【收到不支持的消息类型，暂无法显示】", small_talk.EMOJI), ("  谢 谢！！ ", small_talk.THANKS),
    ("ＯＫ", small_talk.ACK),
    ("灯坏了", None), ("没水了", None), ("电梯", None), ("漏水", None), ("有人摔倒了", None), ("停电", None),
    ("救命", None), ("谢谢，楼道灯还是不亮", None), ("你们", None), ("帮忙", None), ("你好帮忙", None),
    ("😭", None), ("[流泪]", None), ("谢谢" * 21, None),
])
def test_what_is_small_talk(text, kind):
    assert small_talk.kind(text) == kind


@pytest.mark.pure
def test_no_courtesy_word_is_something_the_classifier_recognises():
    rules = classifier.rules_from_seed()
    words = [w for k in (small_talk.THANKS, small_talk.GREETING, small_talk.ACK) for w in small_talk._CORE[k]]
    recognised = [w for w in words + list(small_talk._FILLERS) + list(small_talk._THANKED_FOR)
                  if small_talk.recognised(classifier.classify(w, rules))]
    assert recognised == []


@pytest.mark.pure
def test_a_keyword_added_by_an_admin_makes_the_note_a_report():
    rules = [*classifier.rules_from_seed(), classifier.CategoryRule("praise", "low", {"辛苦了": 3.0})]
    assert small_talk.kind("辛苦了") == small_talk.THANKS
    assert small_talk.kind("辛苦了", lambda text: classifier.classify(text, rules)) is None


def tickets():
    return db.session.scalar(select(func.count()).select_from(Ticket))


def test_error_rates_through_the_callback(wechat, capsys):
    """Each labelled message, from a resident with nothing pending, as WeChat delivers it."""
    seen = iter(range(10_000))

    def opened(text):
        before = tickets()
        response, _ = wechat.say(text, openid=f"o_labelled_{next(seen)}")
        assert response.status_code == 200
        return tickets() > before

    _report_rates(capsys, "through the callback", _rates(opened))


def test_thanks_after_a_resolved_ticket_points_to_rating_and_opens_nothing(wechat, org, account):
    wechat.say("古田路16号3号楼2单元楼道灯坏了")
    ticket = db.session.scalars(select(Ticket)).one()
    director = Principal.from_user(org.director)
    pipeline.act(director, ticket, "accept")
    pipeline.act(director, ticket, "resolve", note="已更换楼道灯泡")
    response, reply = wechat.say("谢谢")
    assert response.status_code == 200 and tickets() == 1
    content = reply["Content"]
    assert "不客气" in content and ticket.number in content and "评个分" in content
    assert f"/h5/yanchenglu/tickets/{ticket.number}" in content and "工单号" not in content
    stored = db.session.scalars(select(InboundMessage).where(InboundMessage.raw.contains("谢谢"))).one()
    assert stored.status == "processed" and stored.ticket_id is None and stored.reply == content


def test_a_terse_report_opens_a_ticket(wechat):
    _, reply = wechat.say("灯坏了")
    ticket = db.session.scalars(select(Ticket)).one()
    assert ticket.description == "灯坏了" and ticket.number in reply["Content"]


def test_greetings_stickers_and_faces_are_answered_kindly_and_stored(wechat):
    for text in ("在吗", "【收到不支持的消息类型，暂无法显示】", "[强]", "👍"):
        response, reply = wechat.say(text)
        assert response.status_code == 200 and "告诉我们" in reply["Content"] and "工单" not in reply["Content"]
        assert 'href="tel:0532-83880001"' in reply["Content"]
    assert tickets() == 0
    stored = db.session.scalars(select(InboundMessage)).all()
    assert len(stored) == 4 and {m.status for m in stored} == {"processed"}


def test_a_retry_of_thanks_gets_the_same_reply(wechat):
    xml = wechat.message("text", Content="好的，谢谢")
    first, second = (wechat.open_reply(wechat.post(xml))["Content"] for _ in range(2))
    assert first == second and "不客气" in first and tickets() == 0


def test_a_voice_saying_thanks_opens_nothing(wechat):
    reply = wechat.open_reply(wechat.post(wechat.message("voice", MediaId="v1", Format="amr", Recognition="谢谢。")))
    assert "不客气" in reply["Content"] and tickets() == 0


def test_ok_after_a_photo_asks_again_for_words_and_the_words_still_complete_it(wechat, clock):
    wechat.post(wechat.message("image", PicUrl="http://x/p.jpg", MediaId="m1"))
    ticket = db.session.scalars(select(Ticket)).one()
    _, reply = wechat.say("好的")
    assert ticket.number in reply["Content"] and "文字" in reply["Content"]
    clock.advance(minutes=1)
    _, reply = wechat.say("古田路16号楼道灯坏了")
    db.session.refresh(ticket)
    assert tickets() == 1 and ticket.description == "古田路16号楼道灯坏了" and not ticket.description_pending


def test_the_district_account_answers_thanks_without_asking_for_a_community(client, district_account):
    from tests.intake.conftest import WeChatPlayer
    player = WeChatPlayer(client, "shinan", token="districtToken", appid="wxabcdefabcdef1234", aes_key=None)
    _, reply = player.say("谢谢")
    assert "不客气" in reply["Content"] and "所在的社区" not in reply["Content"] and tickets() == 0


def test_an_open_ticket_is_pointed_to_when_a_resident_just_says_hello(wechat):
    wechat.say("古田路16号3号楼2单元楼道灯坏了")
    _, reply = wechat.say("在吗")
    assert "正在办理中" in reply["Content"] and "/h5/yanchenglu/tickets" in reply["Content"] and tickets() == 1
