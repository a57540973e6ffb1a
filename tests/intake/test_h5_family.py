"""Family members (代办人) through the H5 pages and the real database: the parent makes a link (and its QR code),
the child confirms it in their own WeChat, reports for the parent, sees and rates their tickets, hears the same
notifications; the parent removes them and everything stops."""
import re

import pytest
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.notify.models import Notification
from dispatch.org.family import FamilyLink
from dispatch.org.models import Resident
from dispatch.tickets.lifecycle import Status
from tests.intake.test_h5 import (ResidentPhone, page_text, resident, resolve,  # noqa: F401 (fixtures)
                                  ticket_by_number)

JOIN = re.compile(r'href="(?:https?://[^/"]+)?(/h5/yanchenglu/family/join/[A-Za-z0-9_-]+)"')


@pytest.fixture
def child(app, wechat_api, account):
    """The parent's son, in his own WeChat (another openid)."""
    person = ResidentPhone(app, openid="o_son")
    assert person.sign_in().status_code == 302
    return person


def post(person, page, **fields):
    return person.client.post(person.url(page), data={"csrf_token": person.csrf(), **fields})


def make_link(parent, label="张阿姨"):
    """The parent asks for a link on 「我的家人」; returns the join path shown (its QR code is on the page)."""
    made = post(parent, "/family/link", label=label)
    assert made.status_code == 302, page_text(made)
    page = page_text(parent.client.get(parent.url("/family")))
    assert 'src="data:image/png;base64,' in page and "请家人用微信扫这个二维码" in page
    return JOIN.search(page).group(1)


def link_up(parent, child, label="张阿姨", member="儿子小张"):
    path = make_link(parent, label)
    confirmed = child.client.post(path, data={"csrf_token": child.csrf(), "label": member})
    assert confirmed.status_code == 302, page_text(confirmed)
    return path


def resident_row(openid):
    return db.session.scalar(select(Resident).where(Resident.openid == openid))


def notified(number, event):
    ticket = ticket_by_number(number)
    return {n.resident_id for n in db.session.scalars(select(Notification).where(
        Notification.ticket_id == ticket.id, Notification.event == event, Notification.audience == "resident"))}


def test_the_link_round_trip_links_the_child_in_their_own_wechat(resident, child, wechat_api):
    path = make_link(resident)
    parent_row = resident_row(wechat_api.default_openid)
    link = db.session.scalar(select(FamilyLink))
    assert link.parent_id == parent_row.id and link.member_id is None
    assert path.rsplit("/", 1)[1] not in link.token_hash  # only the hash is kept

    shown = child.client.get(path)
    assert shown.status_code == 200
    assert "张阿姨</strong>请您做家人代办人" in page_text(shown) and "确认，我来代办" in page_text(shown)
    confirmed = child.client.post(path, data={"csrf_token": child.csrf(), "label": "儿子小张"})
    assert confirmed.status_code == 302 and confirmed.headers["Location"].endswith("/h5/yanchenglu/tickets")
    db.session.refresh(link)
    assert link.member_id == resident_row("o_son").id and link.member_label == "儿子小张"

    family_page = page_text(resident.client.get(resident.url("/family")))
    assert "儿子小张" in family_page and "取消儿子小张的代办" in family_page
    assert "请家人用微信扫这个二维码" not in family_page  # the used link is not offered again
    mine = page_text(child.client.get(child.url("/tickets")))
    assert "家人（张阿姨）的工单" in mine and "为家人（张阿姨）报事" in mine


def test_used_expired_wrong_and_own_links_are_refused_kindly(resident, child, app, wechat_api, account, clock):
    path = link_up(resident, child)
    cousin = ResidentPhone(app, openid="o_cousin")
    cousin.sign_in()
    used = cousin.client.get(path)
    assert used.status_code == 410 and "已经用过了" in page_text(used)
    again = cousin.client.post(path, data={"csrf_token": cousin.csrf(), "label": "侄子"})
    assert again.status_code == 410 and "已经用过了" in page_text(again)

    late = make_link(resident)
    clock.advance(hours=24, minutes=1)
    expired = cousin.client.get(late)
    assert expired.status_code == 410 and "已经过期了" in page_text(expired)
    assert cousin.client.post(late, data={"csrf_token": cousin.csrf()}).status_code == 410

    own = make_link(resident)
    mine = resident.client.get(own)
    assert mine.status_code == 400 and "您自己生成的链接" in page_text(mine)
    replaced = make_link(resident)
    newest = make_link(resident)
    old = cousin.client.get(replaced)
    assert old.status_code == 410 and "换成新的了" in page_text(old)
    assert cousin.client.get(newest).status_code == 200
    assert 'value="张阿姨"' in page_text(resident.client.get(resident.url("/family")))
    wrong = cousin.client.get(cousin.url("/family/join/not-a-real-token"))
    assert wrong.status_code == 410 and "链接不对" in page_text(wrong)
    assert db.session.scalar(select(FamilyLink.member_id).where(FamilyLink.member_id == resident_row("o_cousin").id)) is None

    empty = post(resident, "/family/link", label="  ")
    assert empty.status_code == 400 and "家人怎么称呼您" in page_text(empty)
    long = post(resident, "/family/link", label="张" * 30)
    assert long.status_code == 400 and "最多 20 个字" in page_text(long) and "张" * 30 in page_text(long)


def test_the_child_reports_for_the_parent_with_address_and_phone_filled_in(resident, child, wechat_api):
    own = resident.report("楼道灯坏了", address="古田路16号3号楼", phone="13812345678")
    link_up(resident, child)
    parent_id = resident_row(wechat_api.default_openid).id
    form = page_text(child.client.get(child.url(f"/family/{parent_id}/report")))
    assert "为家人（张阿姨）报事" in form
    assert 'value="古田路16号3号楼"' in form and 'value="13812345678"' in form
    refused = child.client.post(child.url(f"/family/{parent_id}/report"),
                                data={"csrf_token": child.csrf(), "description": "", "address": "古田路16号3号楼"})
    assert refused.status_code == 400 and "请写下您遇到的问题" in page_text(refused)
    done = child.client.post(child.url(f"/family/{parent_id}/report"), data={
        "csrf_token": child.csrf(), "description": "家里水管漏水了", "address": "古田路16号3号楼",
        "phone": "13812345678", "category": ""})
    assert done.status_code == 302, page_text(done)
    number = done.headers["Location"].rsplit("/", 1)[1]
    ticket = ticket_by_number(number)
    assert ticket.resident_id == parent_id and ticket.address == "古田路16号3号楼"
    entry = next(e for e in ticket.events if e.kind == "reported_by_family")
    assert entry.note == "由家人（儿子小张）代张阿姨提交"

    page = page_text(child.client.get(child.url(f"/tickets/{number}")))
    assert "这是家人（张阿姨）的工单" in page and "家人代为提交" in page and "由家人（儿子小张）代张阿姨提交" in page
    assert "家里水管漏水了" in page_text(resident.client.get(resident.url(f"/tickets/{number}")))
    listing = page_text(child.client.get(child.url("/tickets")))
    assert number in listing and own in listing and "家人（张阿姨）" in listing
    # the child's own list of their own tickets stays theirs: the parent's are in the family section
    assert "家人代为提交" in page_text(resident.client.get(resident.url(f"/tickets/{number}")))


def test_the_child_sees_rates_and_hears_the_same_news(resident, child, org, wechat_api):
    link_up(resident, child)
    number = resident.report("楼道灯坏了")
    parent_id, son_id = resident_row(wechat_api.default_openid).id, resident_row("o_son").id
    resolve(org, number)
    assert notified(number, "resolved") == {parent_id, son_id}
    page = page_text(child.client.get(child.url(f"/tickets/{number}")))
    assert "请您评价" in page or "评价" in page
    rated = child.rate(number, rating="satisfied", comment="谢谢师傅")
    assert rated.status_code == 302, page_text(rated)
    ticket = ticket_by_number(number)
    assert ticket.status is Status.CLOSED and ticket.rating == "satisfied"
    again = child.rate(number, rating="satisfied")
    assert again.status_code == 409 and "已经评价过" in page_text(again)


def test_removing_a_family_member_stops_everything_at_once(resident, child, org, wechat_api):
    link_up(resident, child)
    number = resident.report("楼道灯坏了")
    parent_id, son_id = resident_row(wechat_api.default_openid).id, resident_row("o_son").id
    link = db.session.scalar(select(FamilyLink))
    removed = post(resident, f"/family/{link.id}/remove")
    assert removed.status_code == 302
    assert "已取消儿子小张的代办" in page_text(resident.client.get(resident.url("/family")))
    assert post(resident, f"/family/{link.id}/remove").status_code == 404

    assert child.client.get(child.url(f"/tickets/{number}")).status_code == 404
    assert child.client.get(child.url(f"/family/{parent_id}/report")).status_code == 404
    assert child.rate(number, rating="satisfied").status_code == 404
    assert "家人（张阿姨）的工单" not in page_text(child.client.get(child.url("/tickets")))
    resolve(org, number)
    assert notified(number, "resolved") == {parent_id}
    assert son_id not in notified(number, "resolved")


def test_a_stranger_cannot_see_or_report_for_someone_else(resident, child, wechat_api):
    number = resident.report("楼道灯坏了")
    parent_id = resident_row(wechat_api.default_openid).id
    assert child.client.get(child.url(f"/tickets/{number}")).status_code == 404
    assert child.client.get(child.url(f"/family/{parent_id}/report")).status_code == 404


def test_the_child_answers_the_question_asked_of_the_parent(resident, child, org, wechat_api):
    from dispatch.org.principal import Principal
    from dispatch.tickets import pipeline
    link_up(resident, child)
    number = resident.report("楼道灯坏了")
    director = Principal.from_user(org.director)
    pipeline.act(director, ticket_by_number(number), "accept")
    pipeline.act(director, ticket_by_number(number), "wait_for_resident", note="请问是哪栋楼哪个单元？")
    page = page_text(child.client.get(child.url(f"/tickets/{number}")))
    assert "请问是哪栋楼哪个单元？" in page and "提交补充" in page
    answered = child.client.post(child.url(f"/tickets/{number}/answer"),
                                 data={"csrf_token": child.csrf(), "answer": "5号楼1单元4楼"})
    assert answered.status_code == 302, page_text(answered)
    ticket = ticket_by_number(number)
    assert ticket.status is Status.ACCEPTED and ticket.events[-1].note == "5号楼1单元4楼"
