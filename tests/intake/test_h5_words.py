"""Words residents understand (issue 20, item 7): plain states, one line per thing that happened, failures said
kindly, the promised contact time and who is coming; no staff word or code anywhere on the resident's pages."""
import html
import re

import pytest
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.intake.media_jobs import run_media_fetches
from dispatch.notify.models import Notification
from dispatch.org.principal import Principal
from dispatch.resident.words import given_name
from dispatch.tickets import pipeline
from dispatch.tickets.lifecycle import RESIDENT_STATUS_LABELS, Status
from tests.intake.test_h5 import TICKET_PAGE, ResidentPhone, jpeg_with_exif, page_text, ticket_by_number
from tests.intake.test_h5_actions import promises  # noqa: F401 (autouse: the SLA's promised times)
from tests.intake.test_wechat_media import image, jpeg_with_gps, tickets

# Staff words and codes a resident must never read: office terms for states, snake_case codes, action names.
FORBIDDEN = ("重办", "派单", "受理", "签收", "办结", "退单", "延期", "作废", "诉求类别", "待居民补充", "居民（微信）",
             "未能保存：")
CODE = re.compile(r"[A-Za-z]{2,}")  # any English word or code: residents read Chinese only
ALLOWED_LATIN = {"MB"}              # "每张请不要超过 10 MB" on the report form
SCRIPT = re.compile(r"<(script|style)\b.*?</\1>", re.S)
SHOWN_ATTRIBUTES = re.compile(r'\b(?:placeholder|alt|aria-label|title)="([^"]*)"')


def visible(response):
    """What the resident reads: text nodes and the attributes a screen shows or reads aloud."""
    body = SCRIPT.sub(" ", page_text(response))
    said = " ".join(SHOWN_ATTRIBUTES.findall(body))
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<title>.*?</title>", " ", body, flags=re.S))
    return html.unescape(" ".join((text + " " + said).split()))


def staff_words_in(text):
    found = [w for w in FORBIDDEN if w in text]
    return found + [w for w in CODE.findall(text) if w not in ALLOWED_LATIN]


@pytest.fixture
def resident(app, wechat_api, account):
    """The resident who also writes to the account in WeChat (the same openid)."""
    person = ResidentPhone(app, openid="o_resident_1")
    assert person.sign_in().status_code == 302
    return person


def act(user, number, action, **fields):
    return pipeline.act(Principal.from_user(user), ticket_by_number(number), action, **fields)


def page(resident, number):
    response = resident.client.get(f"/h5/yanchenglu/tickets/{number}")
    assert response.status_code == 200
    return visible(response)


def test_every_state_has_plain_words_that_fit_a_template_phrase():
    assert set(RESIDENT_STATUS_LABELS) == set(Status)
    for status, label in RESIDENT_STATUS_LABELS.items():
        assert 2 <= len(label) <= 5 and not staff_words_in(label), status
    assert Status.REOPENED.resident_label == "重新办理中" and Status.DISPATCHED.resident_label == "已安排人员"


def test_the_volunteer_is_named_by_surname_and_never_in_full():
    assert given_name("王建国") == "王师傅" and given_name("欧阳娜娜") == "欧阳师傅"
    assert given_name("李师傅") == "李师傅" and given_name("小张") == "张师傅"
    assert given_name("volunteer") == "" and given_name("") == ""


def test_the_page_repeats_the_promise_until_answered_then_says_who_is_coming(resident, org, clock):
    org.volunteer.display_name, org.volunteer.phone = "李秀英", "13900001111"
    db.session.commit()
    number = resident.report("3号楼2单元楼道灯坏了")
    first = page(resident, number)
    promise = re.search(r"我们会在 (\d+)月(\d+)日 (\d\d:\d\d) 前联系您。", first)
    assert promise is not None and "已收到" in first
    clock.advance(hours=1)
    assert promise.group(0) in page(resident, number)  # still there on a later visit
    act(org.director, number, "accept")
    act(org.director, number, "dispatch", assignee="volunteer")
    dispatched = page(resident, number)
    assert "我们会在" not in dispatched  # answered: the promise is kept
    assert "李师傅（365服务队）负责办理，会联系您。" in dispatched
    assert "已安排李师傅（365服务队）来办理" in dispatched and "已安排人员" in dispatched
    assert "李秀英" not in dispatched and "13900001111" not in dispatched
    told = dict(db.session.execute(select(Notification.audience, Notification.facts).where(
        Notification.event.in_(("dispatched", "new_task")))).all())
    assert told["resident"]["status"] == "已安排人员" and told["volunteer"]["status"] == "已派单"
    act(org.volunteer, number, "sign")
    assert "李师傅（365服务队）已接手，会尽快联系您" in page(resident, number)
    act(org.volunteer, number, "return", note="这个需要供水公司来修")
    act(org.director, number, "dispatch", department="water")
    sent = page(resident, number)
    assert "市南供水服务中心负责办理，会联系您。" in sent and "正在重新安排人员" in sent
    assert "供水公司来修" not in sent  # staff's reasons stay in the console


def test_a_wechat_photo_shows_once_and_a_refused_file_is_said_kindly(resident, wechat, wechat_api, clock):
    wechat.say("东海西路15号2栋1单元301暖气不热")
    number = tickets()[0].number
    clock.advance(minutes=2)
    image(wechat, wechat_api.add_media(jpeg_with_gps()))
    clock.advance(minutes=1)
    image(wechat, wechat_api.add_media(b"MZ\x90\x00 not really a photo", content_type="image/jpeg"))
    before = page(resident, number)
    assert before.count("您补充了照片") == 2
    clock.advance(seconds=30)
    assert run_media_fetches(clock()) == 2
    after = page(resident, number)
    assert after.count("您补充了照片") == 1 and "添加了照片" not in after
    assert "您发来的图片没能保存 可能不是照片，请重新拍一张发来。" in after
    assert "未能保存" not in after and "居民" not in after and not staff_words_in(after)


def test_a_photo_ticket_and_its_saved_photo_are_one_line(resident, wechat, wechat_api, clock):
    image(wechat, wechat_api.add_media(jpeg_with_gps()))
    number = tickets()[0].number
    clock.advance(seconds=20)
    run_media_fetches(clock())
    text = page(resident, number)
    assert "您发来照片反映了问题" in text and "照片" in text and text.count("您补充了照片") == 0


def test_a_voice_shows_once(resident, wechat, wechat_api, clock):
    wechat.say("湛山二路5号2单元水管漏水了")
    number = tickets()[0].number
    clock.advance(minutes=1)
    audio = wechat_api.add_media(b"#!AMR\n" + b"\x00" * 200, content_type="audio/amr")
    wechat.open_reply(wechat.post(wechat.message("voice", MediaId=audio, Format="amr")))
    clock.advance(seconds=20)
    run_media_fetches(clock())
    text = page(resident, number)
    assert text.count("您发来了语音留言") == 1 and "待工作人员收听" not in text


def test_photos_sent_with_the_report_join_its_line(resident, clock):
    response = resident.post_report(description="3号楼门口井盖碎了", photos=[("a.jpg", jpeg_with_exif()),
                                                                        ("b.jpg", jpeg_with_exif())])
    number = TICKET_PAGE.match(response.headers["Location"]).group("number")
    text = page(resident, number)
    assert "您反映了问题（附 2 张照片）" in text and "您补充了照片" not in text


def walk(resident, neighbour, org, clock):
    """Tickets in every state; yields (status, the page's visible text) and finally the list's."""
    director, volunteer, street = org.director, org.volunteer, org.street
    number = resident.report("3号楼2单元楼道灯坏了")
    steps = [(director, "accept", {}), (director, "dispatch", {"assignee": "volunteer"}), (volunteer, "sign", {}),
             (volunteer, "start", {}), (volunteer, "wait_for_resident", {"note": "请问是几楼的灯？"}),
             (director, "answer", {"note": "是4楼"}),
             (volunteer, "request_extension", {"note": "灯具要订货", "extension_days": 3}),
             (street, "approve_extension", {}), (volunteer, "resolve", {"note": "已更换楼道灯"})]
    yield ticket_by_number(number).status, page(resident, number)
    for user, action, fields in steps:
        clock.advance(minutes=30)
        act(user, number, action, **fields)
        yield ticket_by_number(number).status, page(resident, number)
    resident.rate(number, rating="unsatisfied", comment="还是不亮")
    yield ticket_by_number(number).status, page(resident, number)
    act(director, number, "dispatch", assignee="volunteer")
    act(volunteer, number, "return", note="需要电工")
    yield ticket_by_number(number).status, page(resident, number)
    act(director, number, "dispatch", department="water")
    act(org.dept, number, "sign")
    act(org.dept, number, "resolve", note="已修好")
    resident.rate(number, rating="satisfied", comment="谢谢")
    yield ticket_by_number(number).status, page(resident, number)
    spam = resident.report("小区垃圾没人清")
    act(director, spam, "invalidate", note="已由物业处理")
    yield ticket_by_number(spam).status, page(resident, spam)
    kept = neighbour.report("5号楼电梯坏了")
    duplicate = resident.report("5号楼电梯不动了")
    act(director, duplicate, "merge", into=kept)
    yield ticket_by_number(duplicate).status, page(resident, duplicate)
    response = resident.client.get("/h5/yanchenglu/tickets")
    yield None, visible(response)


def test_no_staff_word_or_code_on_any_resident_page(resident, org, clock, app, wechat_api):
    neighbour = ResidentPhone(app, openid="o_neighbour")
    assert neighbour.sign_in().status_code == 302
    seen = set()
    for status, text in walk(resident, neighbour, org, clock):
        assert not staff_words_in(text), (status, staff_words_in(text), text)
        seen.add(status)
    assert seen - {None} == set(Status)


def test_answers_of_photos_or_voice_are_one_line_in_the_residents_words(resident, org, wechat, wechat_api, clock):
    from tests.intake.test_h5_answer import post_answer, waiting
    number = resident.report("楼道灯不亮")
    waiting(org, number)
    assert post_answer(resident, number, photos=[("a.jpg", jpeg_with_exif()), ("b.jpg", jpeg_with_exif())]
                       ).status_code == 302
    text = page(resident, number)
    assert "您补充了情况，继续办理（附 2 张照片）" in text and "居民" not in text
    act(org.director, number, "wait_for_resident", note="请再拍一张开关的照片")
    clock.advance(minutes=5)
    image(wechat, wechat_api.add_media(jpeg_with_gps()))
    act(org.director, number, "wait_for_resident", note="请说说什么时候家里有人")
    clock.advance(minutes=5)
    audio = wechat_api.add_media(b"#!AMR\n" + b"\x00" * 200, content_type="audio/amr")
    wechat.open_reply(wechat.post(wechat.message("voice", MediaId=audio, Format="amr")))
    clock.advance(seconds=20)
    assert run_media_fetches(clock()) == 2
    text = page(resident, number)
    assert text.count("您发来了照片，继续办理") == 1 and text.count("您发来了语音留言，继续办理") == 1
    assert "收到您" not in text and "居民" not in text and "待工作人员收听" not in text and not staff_words_in(text)
