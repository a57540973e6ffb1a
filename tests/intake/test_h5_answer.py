"""The H5 ticket page's answer form: staff's question, the resident's words and photos, and the work going on."""
import io

from dispatch.extensions import db
from dispatch.notify.models import Notification
from dispatch.org.principal import Principal
from dispatch.tickets import pipeline
from dispatch.tickets.lifecycle import Status
from tests.intake.test_h5 import (jpeg_with_exif, page_text, resident, neighbour,  # noqa: F401 (fixtures)
                                  ticket_by_number)

QUESTION = "请问是哪栋楼哪个单元的灯不亮？"


def waiting(org, number):
    """The director accepts the ticket and asks the resident a question."""
    director = Principal.from_user(org.director)
    ticket = ticket_by_number(number)
    pipeline.act(director, ticket, "accept")
    pipeline.act(director, ticket, "wait_for_resident", note=QUESTION)
    return ticket


def post_answer(person, number, text="", photos=()):
    data = {"csrf_token": person.csrf(), "answer": text,
            "photos": [(io.BytesIO(content), name) for name, content in photos] or [(io.BytesIO(b""), "")]}
    return person.client.post(person.url(f"/tickets/{number}/answer"), data=data, content_type="multipart/form-data")


def test_the_page_shows_the_question_with_an_answer_form_only_while_it_waits(resident, org):
    number = resident.report("楼道灯不亮")
    page = page_text(resident.client.get(resident.url(f"/tickets/{number}")))
    assert "请您补充情况" not in page and 'name="answer"' not in page
    waiting(org, number)
    page = page_text(resident.client.get(resident.url(f"/tickets/{number}")))
    assert "工作人员想请您补充情况" in page and QUESTION in page and 'name="answer"' in page
    assert 'accept="image/*"' in page and "提交补充" in page


def test_an_answer_with_a_photo_resumes_the_ticket_and_shows_on_the_page(resident, org, clock):
    number = resident.report("楼道灯不亮")
    ticket = waiting(org, number)
    clock.advance(hours=1)
    response = post_answer(resident, number, "是古田路16号5号楼1单元4楼的灯", [("a.jpg", jpeg_with_exif())])
    assert response.status_code == 302, page_text(response)
    db.session.refresh(ticket)
    assert ticket.status is Status.ACCEPTED and len(ticket.photos) == 1
    assert [e.kind for e in ticket.events[-2:]] == ["answer", "photo_added"]
    assert ticket.events[-2].note == "是古田路16号5号楼1单元4楼的灯"
    assert db.session.query(Notification).filter_by(event="answered", audience="director").count() == 1
    page = page_text(resident.client.get(response.headers["Location"]))
    assert f"已补充到工单 <span class=\"nowrap\">{number}</span>，我们继续为您办理" in page
    assert "您补充了情况，继续办理" in page and "是古田路16号5号楼1单元4楼的灯" in page
    assert 'name="answer"' not in page


def test_photos_alone_are_an_answer(resident, org):
    number = resident.report("楼道灯不亮")
    ticket = waiting(org, number)
    assert post_answer(resident, number, photos=[("a.jpg", jpeg_with_exif())]).status_code == 302
    db.session.refresh(ticket)
    assert ticket.status is Status.ACCEPTED and "1 张照片" in ticket.events[-2].note


def test_bad_answers_are_refused_kindly_and_keep_the_words(resident, org, app):
    number = resident.report("楼道灯不亮")
    ticket = waiting(org, number)
    empty = post_answer(resident, number, "   ")
    assert empty.status_code == 400 and "请写下您要补充的情况" in page_text(empty)
    not_image = post_answer(resident, number, "5号楼1单元", [("x.jpg", b"MZ not a photo")])
    page = page_text(not_image)
    assert not_image.status_code == 400 and "没能收下" in page and ">5号楼1单元</textarea>" in page
    too_long = post_answer(resident, number, "灯" * 1001)
    assert too_long.status_code == 400 and "最多 1000 字，现在是 1001 字" in page_text(too_long)
    db.session.refresh(ticket)
    assert ticket.status is Status.WAITING_RESIDENT and ticket.events[-1].kind == "wait_for_resident"


def test_an_answer_after_staff_resumed_is_a_kind_409_that_keeps_the_words(resident, org):
    number = resident.report("楼道灯不亮")
    ticket = waiting(org, number)
    page = resident.client.get(resident.url(f"/tickets/{number}"))
    assert page.status_code == 200
    pipeline.act(Principal.from_user(org.director), ticket, "resume")
    response = post_answer(resident, number, "5号楼1单元")
    text = page_text(response)
    assert response.status_code == 409 and "不需要您补充情况了" in text and "5号楼1单元" in text


def test_a_neighbour_cannot_answer_someone_elses_ticket(resident, neighbour, org):
    number = resident.report("楼道灯不亮")
    waiting(org, number)
    data = {"csrf_token": neighbour.csrf(), "answer": "不是我的"}
    assert neighbour.client.post(neighbour.url(f"/tickets/{number}/answer"), data=data).status_code == 404
