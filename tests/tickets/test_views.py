"""The staff console's ticket pages, through the Flask test client and the real database."""
import re
import struct
import zlib
from datetime import timedelta
from io import BytesIO

import pytest
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.org.principal import Principal
from dispatch.tickets import pipeline
from dispatch.tickets.lifecycle import Status
from dispatch.tickets.models import Channel, Priority, Ticket
from tests.conftest import csrf_from, login


def png_bytes():
    """A valid 1×1 PNG, built by hand."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
            + chunk(b"IEND", b""))


def page(response):
    return response.get_data(as_text=True)


def as_admin(org):
    return Principal.from_user(org.admin)


def post(client, url, data, token=None, **kw):
    """POST a console form with the session's CSRF token, following the redirect."""
    token = token or csrf_from(client, "/")
    return client.post(url, data={"csrf_token": token, **data}, follow_redirects=True, **kw)


def fetch(number):
    db.session.expire_all()
    return db.session.scalar(select(Ticket).where(Ticket.number == number))


# ---- login and scope ----

@pytest.mark.parametrize("url", ["/", "/tickets/20261120-0001", "/phone", "/phone/suggest?text=灯"])
def test_pages_require_login(client, org, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_queue_shows_only_the_staff_members_community(client, org, make_ticket):
    make_ticket("盐城路的走廊灯坏了")
    make_ticket("香港花园的水管漏了", community=org.c3)
    login(client, "staff")
    body = page(client.get("/"))
    assert "盐城路的走廊灯坏了" in body and "香港花园的水管漏了" not in body
    login(client, "staff3")
    body = page(client.get("/"))
    assert "香港花园的水管漏了" in body and "盐城路的走廊灯坏了" not in body


def test_street_supervisor_sees_its_communities_and_can_filter_by_them(client, org, make_ticket):
    make_ticket("盐城路的走廊灯坏了")
    make_ticket("福州路的垃圾没人收", community=org.c2)
    make_ticket("香港花园的水管漏了", community=org.c3)
    login(client, "street")
    body = page(client.get("/"))
    assert "盐城路的走廊灯坏了" in body and "福州路的垃圾没人收" in body
    assert "香港花园的水管漏了" not in body
    assert 'name="community"' in body and "福州路社区" in body and 'value="xiangganghuayuan"' not in body
    body = page(client.get("/?community=fuzhoulu"))
    assert "福州路的垃圾没人收" in body and "盐城路的走廊灯坏了" not in body


def test_single_community_staff_get_no_community_filter(client, org, make_ticket):
    login(client, "staff")
    assert 'name="community"' not in page(client.get("/"))


def test_volunteer_sees_only_tickets_assigned_to_them(client, org, make_ticket):
    mine, other = make_ticket("给李师傅的活"), make_ticket("还没派的活")
    pipeline.act(as_admin(org), mine, "accept")
    pipeline.act(as_admin(org), mine, "dispatch", assignee="volunteer")
    login(client, "volunteer")
    body = page(client.get("/"))
    assert "给李师傅的活" in body and "还没派的活" not in body
    assert client.get(f"/tickets/{other.number}").status_code == 404


def test_out_of_scope_ticket_looks_like_a_missing_one(client, org, make_ticket):
    ticket = make_ticket()
    login(client, "staff3")
    hidden, missing = client.get(f"/tickets/{ticket.number}"), client.get("/tickets/20991231-9999")
    assert hidden.status_code == missing.status_code == 404
    assert "找不到工单" in page(hidden) and "找不到工单" in page(missing)
    assert ticket.description not in page(hidden)


# ---- queue filters ----

def test_status_choices_count_and_filter(client, org, make_ticket):
    accepted = make_ticket("已经受理的路灯")
    make_ticket("还没受理的路灯")
    make_ticket("又一个没受理的")
    pipeline.act(as_admin(org), accepted, "accept")
    login(client, "staff")
    body = page(client.get("/"))
    assert re.search(r'data-status="new"[^>]*>待受理（2）</option>', body)
    assert re.search(r'data-status="accepted"[^>]*>已受理（1）</option>', body)
    body = page(client.get("/?status=accepted"))
    assert "已经受理的路灯" in body and "还没受理的路灯" not in body


def test_overdue_and_text_filters(client, org, make_ticket, clock):
    late, on_time = make_ticket("超时的燃气泄漏"), make_ticket("按时的楼道灯")
    late.resolution_due_at = clock() - timedelta(hours=1)
    on_time.resolution_due_at = clock() + timedelta(days=1)
    db.session.commit()
    login(client, "staff")
    body = page(client.get("/?overdue=1"))
    assert "超时的燃气泄漏" in body and "按时的楼道灯" not in body and "已超时" in body
    body = page(client.get("/?q=楼道灯"))
    assert "按时的楼道灯" in body and "超时的燃气泄漏" not in body


def test_date_range_includes_the_end_day(client, org, make_ticket, clock):
    make_ticket("今天的诉求")
    login(client, "staff")
    assert "今天的诉求" in page(client.get("/?created_from=2026-11-20&created_to=2026-11-20"))
    assert "今天的诉求" not in page(client.get("/?created_to=2026-11-19"))


def test_bad_filter_values_are_named_and_ignored(client, org, make_ticket):
    make_ticket("照常显示的工单")
    login(client, "staff")
    response = client.get("/?status=bogus&created_from=not-a-date&page=abc&q=照常")
    body = page(response)
    assert response.status_code == 200
    assert "「状态」的取值无效（bogus）" in body and "「起始日期」的取值无效" in body
    assert "照常显示的工单" in body


def test_urgent_tickets_carry_a_text_badge(client, org, make_ticket):
    make_ticket("煤气泄漏，闻到很大的味道", priority=Priority.URGENT)
    login(client, "staff")
    assert re.search(r'class="badge prio prio-urgent"[^>]*>.*紧急</span>', page(client.get("/")))


# ---- ticket detail and actions ----

def test_director_accepts_and_dispatches_through_the_forms(client, org, make_ticket):
    ticket = make_ticket()
    login(client, "director")
    body = page(client.get(f"/tickets/{ticket.number}"))
    assert 'data-action="accept"' in body and 'data-action="dispatch"' not in body
    body = page(post(client, f"/tickets/{ticket.number}/actions/accept", {"version": ticket.version}))
    assert "已执行「受理」" in body and 'data-action="dispatch"' in body
    assert 'value="assignee:volunteer"' in body and "assignee:volunteer2" not in body
    form = {"version": fetch(ticket.number).version, "target": "assignee:volunteer", "note": "请今天去"}
    body = page(post(client, f"/tickets/{ticket.number}/actions/dispatch", form))
    ticket = fetch(ticket.number)
    assert ticket.status is Status.DISPATCHED and ticket.assignee.username == "volunteer"
    assert [e.kind for e in ticket.events] == ["created", "accept", "dispatch"]
    assert "派给志愿者：李师傅" in body and "请今天去" in body and "已受理 → 已派单" in body


def test_dispatch_to_a_department_and_the_volunteer_signs(client, org, make_ticket):
    ticket = make_ticket()
    pipeline.act(as_admin(org), ticket, "accept")
    login(client, "staff")
    post(client, f"/tickets/{ticket.number}/actions/dispatch",
         {"version": fetch(ticket.number).version, "target": "department:water"})
    assert fetch(ticket.number).department.code == "water"
    login(client, "dept")
    post(client, f"/tickets/{ticket.number}/actions/sign", {"version": fetch(ticket.number).version})
    assert fetch(ticket.number).status is Status.SIGNED


def test_action_needing_a_note_is_refused_without_one(client, org, make_ticket):
    ticket = make_ticket()
    login(client, "staff")
    body = page(post(client, f"/tickets/{ticket.number}/actions/invalidate", {"version": ticket.version}))
    assert "需要填写原因或说明" in body
    assert fetch(ticket.number).status is Status.NEW


def test_illegal_and_unpermitted_actions_flash_instead_of_failing(client, org, make_ticket):
    ticket = make_ticket()
    login(client, "staff")
    response = post(client, f"/tickets/{ticket.number}/actions/close", {"version": ticket.version})
    assert response.status_code == 200 and "不能执行「关闭」" in page(response)
    response = post(client, f"/tickets/{ticket.number}/actions/approve_extension", {"version": ticket.version})
    assert response.status_code == 200 and "不能执行" in page(response)
    assert fetch(ticket.number).status is Status.NEW


def test_merge_into_another_ticket(client, org, make_ticket):
    keep, duplicate = make_ticket("3号楼走廊灯坏了"), make_ticket("3号楼楼道灯不亮")
    login(client, "staff")
    post(client, f"/tickets/{duplicate.number}/actions/merge", {"version": duplicate.version, "into": keep.number})
    assert fetch(duplicate.number).status is Status.MERGED
    assert "重复工单并入" in page(client.get(f"/tickets/{keep.number}"))


def test_post_without_csrf_token_is_refused(client, org, make_ticket):
    ticket = make_ticket()
    login(client, "staff")
    response = client.post(f"/tickets/{ticket.number}/actions/accept", data={"version": ticket.version})
    assert response.status_code == 400
    assert fetch(ticket.number).status is Status.NEW


def test_stale_version_flashes_a_conflict_and_changes_nothing(client, org, make_ticket):
    ticket = make_ticket()
    pipeline.act(as_admin(org), ticket, "accept")
    login(client, "director")
    seen = fetch(ticket.number).version
    pipeline.act(as_admin(org), fetch(ticket.number), "classify", priority=Priority.URGENT)
    response = post(client, f"/tickets/{ticket.number}/actions/dispatch",
                    {"version": seen, "target": "assignee:volunteer"})
    assert response.status_code == 409 and "工单已被他人更新" in page(response)
    after = fetch(ticket.number)
    assert after.status is Status.ACCEPTED and after.assignee is None


def test_reclassify_and_comment(client, org, make_ticket):
    ticket = make_ticket()
    login(client, "staff")
    body = page(post(client, f"/tickets/{ticket.number}/classify",
                     {"version": ticket.version, "category": "water_power", "priority": "high"}))
    assert "已更新分类" in body and "楼道及路灯 → 水电维修" in body
    body = page(post(client, f"/tickets/{ticket.number}/comments", {"note": "已电话联系居民"}))
    assert "已添加备注" in body and "已电话联系居民" in body
    body = page(post(client, f"/tickets/{ticket.number}/comments", {"note": "  "}))
    assert "请填写备注内容" in body
    assert fetch(ticket.number).category.code == "water_power"


def test_photo_upload_accepts_png_and_refuses_text(client, org, make_ticket):
    ticket = make_ticket()
    login(client, "staff")
    url = f"/tickets/{ticket.number}/photos"
    body = page(post(client, url, {"photo": (BytesIO(png_bytes()), "light.png")},
                     content_type="multipart/form-data"))
    photos = fetch(ticket.number).photos
    assert "照片已上传" in body and len(photos) == 1
    assert f'src="/media/{photos[0].storage_key}"' in body
    assert client.get(f"/media/{photos[0].storage_key}").status_code == 200
    body = page(post(client, url, {"photo": (BytesIO(b"just text"), "notes.png")},
                     content_type="multipart/form-data"))
    assert "只能上传 JPEG、PNG、GIF 或 WebP 图片" in body and len(fetch(ticket.number).photos) == 1


# ---- phone intake ----

CALL = {"caller_phone": "138 1234 5678", "caller_name": "张阿姨", "address": "古田路16号3号楼",
        "description": "3号楼2单元3楼走廊灯坏了", "category": "", "priority": ""}


def test_phone_intake_creates_a_phone_ticket(client, org):
    login(client, "staff")
    body = page(client.get("/phone"))
    assert 'type="hidden" name="community" value="yanchenglu"' in body
    response = post(client, "/phone", CALL)
    assert "已创建工单 20261120-0001" in page(response)
    ticket = fetch("20261120-0001")
    assert ticket.channel is Channel.PHONE and ticket.community.code == "yanchenglu"
    assert ticket.resident.phone == "13812345678" and ticket.resident.name == "张阿姨"
    assert ticket.category.code == "lighting"
    assert "13812345678" in page(response)


@pytest.mark.parametrize("username", ["street", "admin"])
def test_phone_is_masked_outside_the_residents_community(client, org, username):
    login(client, "staff")
    post(client, "/phone", CALL)
    login(client, username)
    body = page(client.get("/tickets/20261120-0001"))
    assert "138****5678" in body and "13812345678" not in body


def test_phone_intake_with_chosen_community_category_and_priority(client, org):
    login(client, "street")
    post(client, "/phone", CALL | {"community": "fuzhoulu", "category": "property", "priority": "urgent"})
    ticket = fetch("20261120-0001")
    assert ticket.community.code == "fuzhoulu"
    assert ticket.category.code == "property" and ticket.priority is Priority.URGENT


def test_phone_form_errors_keep_what_was_typed(client, org):
    login(client, "street")
    token = csrf_from(client, "/phone")
    response = client.post("/phone", data={"csrf_token": token, "caller_phone": "12ab", "caller_name": "李大爷",
                                           "community": "xiangganghuayuan", "description": " "})
    body = page(response)
    assert response.status_code == 422
    assert "号码应为 5–20 位数字" in body and "请填写诉求内容" in body and "请选择辖区内的社区" in body
    assert 'value="12ab"' in body and 'value="李大爷"' in body
    assert db.session.scalar(select(Ticket)) is None


@pytest.mark.parametrize("number", ["+86-532-8388-0001", "12345", "0532-83880001"])
def test_phone_numbers_that_are_accepted(client, org, number):
    login(client, "staff")
    post(client, "/phone", CALL | {"caller_phone": number})
    assert fetch("20261120-0001").resident.phone == number


@pytest.mark.parametrize("username", ["volunteer", "dept"])
def test_phone_intake_is_for_staff_only(client, org, username):
    login(client, username)
    assert client.get("/phone").status_code == 403
    assert "电话受理" not in page(client.get("/"))


def test_suggest_returns_the_classifiers_category(client, org):
    login(client, "staff")
    data = client.get("/phone/suggest", query_string={"text": "楼道灯坏了"}).get_json()
    assert data["category"] == "lighting" and data["category_name"] == "楼道及路灯"
    assert data["priority_label"] == "一般" and data["urgent_terms"] == []
    urgent = client.get("/phone/suggest", query_string={"text": "水管爆了，家里淹了"}).get_json()
    assert urgent["category"] == "water_power" and urgent["priority"] == "urgent" and urgent["urgent_terms"]
    assert client.get("/phone/suggest?text=").get_json()["category"] is None
