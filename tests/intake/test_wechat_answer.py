"""Answering staff's question in WeChat, and photos, voices and locations joining the ticket the resident means."""
import pytest
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.intake.media_jobs import run_media_fetches
from dispatch.intake.models import MediaFetch
from dispatch.intake.wechat_service import is_new_problem
from dispatch.notify.models import Notification
from dispatch.org.models import Resident
from dispatch.org.principal import Principal
from dispatch.sla import policies
from dispatch.tickets import pipeline
from dispatch.tickets.lifecycle import Status
from dispatch.tickets.models import Channel
from dispatch.wechat.models import InboundMessage
from tests.intake.test_wechat_media import image, jpeg_with_gps, tickets

QUESTION = "请问是哪栋楼哪个单元的灯不亮？"


def asked(org, ticket, by_volunteer=True):
    """Staff take the ticket up to 待居民补充 with a question: through a volunteer, or the community itself."""
    director = Principal.from_user(org.director)
    pipeline.act(director, ticket, "accept")
    if not by_volunteer:
        return pipeline.act(director, ticket, "wait_for_resident", note=QUESTION)
    volunteer = Principal.from_user(org.volunteer)
    pipeline.act(director, ticket, "dispatch", assignee="volunteer")
    pipeline.act(volunteer, ticket, "sign")
    return pipeline.act(volunteer, ticket, "wait_for_resident", note=QUESTION)


def answered_to(ticket):
    return db.session.execute(select(Notification.audience, Notification.user_id).where(
        Notification.ticket_id == ticket.id, Notification.event == "answered")).all()


def test_a_note_answers_the_waiting_ticket_and_the_volunteer_hears(wechat, org, clock):
    wechat.say("古田路16号的楼道灯不亮")
    ticket = asked(org, tickets()[0])
    clock.advance(hours=2)
    _, reply = wechat.say("是古田路16号5号楼1单元4楼的灯")
    assert len(tickets()) == 1
    db.session.refresh(ticket)
    assert ticket.status is Status.SIGNED  # back where it was before the question
    entry = ticket.events[-1]
    assert (entry.kind, entry.note, entry.actor_label) == ("answer", "是古田路16号5号楼1单元4楼的灯", "居民（微信）")
    assert f"已补充到工单 {ticket.number}，我们继续为您办理" in reply["Content"]
    assert answered_to(ticket) == [("volunteer", org.volunteer.id)]
    row = db.session.scalars(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
    assert (row.status, row.ticket_id) == ("processed", ticket.id)


def test_without_a_volunteer_the_directors_hear_and_the_sla_clock_goes_on(wechat, org, clock):
    assert policies.seed_defaults()
    wechat.say("古田路16号的楼道灯不亮")
    ticket = asked(org, tickets()[0], by_volunteer=False)
    due = ticket.resolution_due_at
    clock.advance(hours=5)
    wechat.say("5号楼1单元")
    db.session.refresh(ticket)
    assert ticket.status is Status.ACCEPTED and ticket.sla_paused_at is None
    assert ticket.resolution_due_at > due and ticket.events[-1].data["sla"] == "resumed"  # the pause moved it
    assert answered_to(ticket) == [("director", org.director.id)]


def test_a_photo_voice_or_location_answers_too(wechat, wechat_api, org, clock):
    wechat.say("古田路16号的楼道灯不亮")
    ticket = asked(org, tickets()[0])
    reply = image(wechat, wechat_api.add_media(jpeg_with_gps()))
    assert f"照片已补充到工单 {ticket.number}，我们继续为您办理" in reply["Content"] and len(tickets()) == 1
    assert run_media_fetches(clock()) == 1 and len(ticket.photos) == 1
    db.session.refresh(ticket)
    assert ticket.status is Status.SIGNED and ticket.events[-2].kind == "answer"
    pipeline.act(Principal.from_user(org.volunteer), ticket, "wait_for_resident", note="请发个位置")
    reply = wechat.open_reply(wechat.post(wechat.message("location", Location_X="36.06", Location_Y="120.39",
                                                         Label="古田路16号")))
    db.session.refresh(ticket)
    assert "位置已补充到工单" in reply["Content"] and (ticket.latitude, ticket.status) == (36.06, Status.SIGNED)
    pipeline.act(Principal.from_user(org.volunteer), ticket, "wait_for_resident", note="家里什么时候有人？")
    audio = wechat_api.add_media(b"#!AMR\n" + b"\x00" * 50, content_type="audio/amr")
    reply = wechat.open_reply(wechat.post(wechat.message("voice", MediaId=audio, Format="amr")))
    db.session.refresh(ticket)
    assert "语音已补充到工单" in reply["Content"] and ticket.needs_listening and ticket.status is Status.SIGNED
    assert len(tickets()) == 1


def test_after_the_answer_a_new_problem_opens_its_own_ticket(wechat, org, clock):
    wechat.say("古田路16号的楼道灯不亮")
    ticket = asked(org, tickets()[0])
    wechat.say("5号楼1单元")
    clock.advance(minutes=20)
    _, reply = wechat.say("南京路8号楼下井盖丢了")
    assert len(tickets()) == 2 and tickets()[1].number in reply["Content"]
    assert db.session.get(Resident, ticket.resident_id).asked_at is None  # settled: notes take the fast path again


def test_staff_resuming_themselves_leaves_the_next_note_a_new_ticket(wechat, org, clock):
    wechat.say("古田路16号的楼道灯不亮")
    ticket = asked(org, tickets()[0])
    pipeline.act(Principal.from_user(org.volunteer), ticket, "resume")
    clock.advance(minutes=20)
    wechat.say("南京路8号楼下井盖丢了")
    assert len(tickets()) == 2 and ticket.events[-1].kind == "resume"


def test_a_neighbours_note_never_answers_another_residents_question(wechat, org, clock):
    wechat.say("古田路16号的楼道灯不亮")
    asked(org, tickets()[0])
    wechat.say("宁夏路100号垃圾桶满了", openid="o_neighbour")
    assert len(tickets()) == 2 and tickets()[0].status is Status.WAITING_RESIDENT


def test_saying_new_problem_while_asked_makes_the_next_note_a_new_ticket(wechat, org, clock):
    wechat.say("古田路16号的楼道灯不亮")
    ticket = asked(org, tickets()[0])
    clock.advance(minutes=20)
    _, reply = wechat.say("这是新问题")
    assert "另外登记" in reply["Content"]
    wechat.say("南京路8号楼下井盖丢了")
    assert len(tickets()) == 2 and ticket.status is Status.WAITING_RESIDENT  # still answerable on its page


def test_the_answer_action_is_anyones_but_only_while_waiting(wechat, org):
    wechat.say("古田路16号的楼道灯不亮")
    ticket = tickets()[0]
    pipeline.act(Principal.from_user(org.director), ticket, "accept")
    with pytest.raises(Exception, match="不能执行"):
        pipeline.act(Principal.from_user(org.director), ticket, "answer", note="5号楼")


# ---- attachments join the ticket reported last ----

def test_a_photo_after_a_new_problem_joins_the_new_problem(wechat, wechat_api, clock):
    image(wechat, wechat_api.add_media(jpeg_with_gps()))
    wechat.say("古田路16号3号楼门口的井盖碎了")
    first = tickets()[0]
    clock.advance(minutes=2)
    _, reply = wechat.say("还有，宁夏路100号的垃圾桶满了")
    second = tickets()[1]
    assert second.number in reply["Content"]
    clock.advance(minutes=1)
    reply = image(wechat, wechat_api.add_media(jpeg_with_gps()))
    assert f"照片已补充到工单 {second.number}" in reply["Content"] and "这是新问题" in reply["Content"]
    reply = wechat.open_reply(wechat.post(wechat.message("location", Location_X="36.1", Location_Y="120.4")))
    assert second.number in reply["Content"] and len(tickets()) == 2
    fetches = db.session.scalars(select(MediaFetch).order_by(MediaFetch.id)).all()
    assert [f.ticket_id for f in fetches] == [first.id, second.id]
    db.session.refresh(second)
    assert second.latitude == 36.1 and first.latitude is None


def test_this_is_a_new_problem_makes_the_last_photo_a_ticket(wechat, wechat_api, clock):
    wechat.say("古田路16号3号楼门口的井盖碎了")
    first = tickets()[0]
    image(wechat, wechat_api.add_media(jpeg_with_gps()))
    clock.advance(minutes=1)
    _, reply = wechat.say("这是新问题！")
    assert len(tickets()) == 2
    new = tickets()[1]
    assert new.channel is Channel.WECHAT_PHOTO and new.description_pending and new.number in reply["Content"]
    assert db.session.scalars(select(MediaFetch)).one().ticket_id == new.id
    assert first.events[-1].kind == "split_off" and new.number in first.events[-1].note
    _, reply = wechat.say("宁夏路100号的路灯不亮")  # the words the new photo ticket waits for
    db.session.refresh(new)
    assert len(tickets()) == 2 and "路灯" in new.description
    _, reply = wechat.say("这是新问题")  # nothing left to move: no ticket, a plain hint
    assert len(tickets()) == 2 and "另外登记" in reply["Content"]
    assert run_media_fetches(clock()) == 1 and len(new.photos) == 1 and first.photos == []


def test_the_menu_key_splits_an_already_fetched_photo_by_fetching_it_again(wechat, wechat_api, clock):
    wechat.say("古田路16号3号楼门口的井盖碎了")
    image(wechat, wechat_api.add_media(jpeg_with_gps()))
    run_media_fetches(clock())
    wechat.post(wechat.message("event", Event="CLICK", EventKey="NEW_PROBLEM"))
    first, new = tickets()
    jobs = db.session.scalars(select(MediaFetch).order_by(MediaFetch.id)).all()
    assert [(j.ticket_id, j.status) for j in jobs] == [(first.id, "done"), (new.id, "pending")]


def test_a_location_said_to_be_new_waits_for_the_next_ticket(wechat, clock):
    wechat.say("古田路16号3号楼门口的井盖碎了")
    wechat.post(wechat.message("location", Location_X="36.2", Location_Y="120.5", Label="南京路"))
    _, reply = wechat.say("新问题")
    assert "不算在工单" in reply["Content"] and len(tickets()) == 1
    wechat.say("这里的路灯不亮")
    assert (tickets()[1].latitude, tickets()[1].location_label) == (36.2, "南京路")


@pytest.mark.pure
@pytest.mark.parametrize("text,meant", [("这是新问题", True), ("这是新问题！", True), ("新问题。", True),
                                        ("这是另一个问题", True), ("新问题很多，楼道灯坏了", False), ("谢谢", False)])
def test_what_counts_as_saying_new_problem(text, meant):
    assert is_new_problem(text) is meant


def test_an_acknowledgement_answers_a_question_but_thanks_stay_small_talk(wechat, org, clock):
    wechat.say("古田路16号的楼道灯不亮")
    ticket = asked(org, tickets()[0])
    _, reply = wechat.say("谢谢")
    db.session.refresh(ticket)
    assert ticket.status is Status.WAITING_RESIDENT and "已补充到工单" not in reply["Content"]
    _, reply = wechat.say("好的")  # e.g. to "明天上午上门可以吗？"
    db.session.refresh(ticket)
    assert ticket.status is Status.SIGNED and ticket.events[-1].note == "好的"
    assert f"已补充到工单 {ticket.number}" in reply["Content"] and len(tickets()) == 1
