"""The admin's notification settings page: plain Chinese, fields chosen from lists, WeChat's card as a preview."""
import re

import pytest
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.notify.models import NotifyTemplate
from dispatch.notify.templates import preview, read_content, render
from tests.conftest import csrf_from, login


def visible(body):
    """The text a person reads: no scripts, no tags, no attribute values."""
    return re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", " ", body, flags=re.S))


def mapping_of(event, account_code=None):
    same = NotifyTemplate.account_code == account_code if account_code else NotifyTemplate.account_code.is_(None)
    return db.session.scalar(select(NotifyTemplate).where(NotifyTemplate.event == event, same))


def section(body, mapping):
    """One message's part of the page: its form and its preview."""
    return body.split(f'id="m-{mapping.id}"')[1].split('<details class="message"')[0]


def save(client, mapping, **changes):
    form = {"csrf_token": csrf_from(client, "/notify/"), "template_id": "Hx8aF2-accepted", "channel": "wechat_template",
            "page": "ticket", "field_key": ["character_string1", "thing2", "phrase3"],
            "field_source": ["number", "category", "status"], "field_name": ["工单编号", "工单类别", "处理进度"],
            "active": "1"} | changes
    return client.post(f"/notify/templates/{mapping.id}", data=form)


@pytest.fixture
def admin(client, org):
    login(client, "admin")
    return client


def test_the_page_speaks_of_channels_and_fields_in_chinese_never_in_codes(admin):
    text = visible(admin.get("/notify/").get_data(as_text=True))
    for label in ("微信模板消息", "订阅通知", "短信", "只记录", "工单类别", "处理进度", "发给居民的通知", "社区已收到"):
        assert label in text, label
    for code in ("wechat_template", "wechat_subscribe", "thing2", "character_string1", "=category", "TPL_",
                 "accepted", "log"):
        assert code not in text, code


def test_a_field_mapping_chosen_from_the_lists_is_saved_and_sent_as_chosen(admin):
    mapping = mapping_of("accepted")
    response = save(admin, mapping, field_source=["number", "community", "status"])
    assert response.status_code == 303 and response.location.endswith(f"#m-{mapping.id}")
    db.session.expire_all()
    saved = db.session.get(NotifyTemplate, mapping.id)
    assert saved.template_id == "Hx8aF2-accepted" and saved.fields == [
        ["character_string1", "number", "工单编号"], ["thing2", "community", "工单类别"], ["phrase3", "status", "处理进度"]]
    assert render(saved.fields, {"number": "20261120-0001", "community": "盐城路社区", "status": "处理中"}) == {
        "character_string1": {"value": "20261120-0001"}, "thing2": {"value": "盐城路社区"}, "phrase3": {"value": "处理中"}}
    page = admin.get("/notify/").get_data(as_text=True)
    assert re.search(r'<option value="community" selected>社区</option>', section(page, saved))


def test_a_choice_not_in_the_list_is_a_400_that_says_which_field(admin):
    mapping = mapping_of("accepted")
    response = save(admin, mapping, field_source=["number", "password", "status"], channel="pigeon")
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "第 2 个字段「工单类别」：请从列表中选择要填入的内容" in body
    assert "请从列表中选择：微信模板消息、订阅通知" in body and "pigeon" not in visible(body)
    response = save(admin, mapping, field_key=[], field_source=[], field_name=[])
    assert response.status_code == 400 and "至少需要一个字段" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(NotifyTemplate, mapping.id).template_id == "TPL_ACCEPTED"


def test_the_preview_shows_the_message_as_wechat_does_with_the_sample_ticket(admin):
    mapping = mapping_of("accepted")
    part = section(admin.get("/notify/").get_data(as_text=True), mapping)
    card = part.split('class="wx-card"')[1]
    assert '<div class="wx-title">社区已收到</div>' in card
    pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", card)
    assert pairs[:3] == [("工单编号", "20261102-0007"), ("工单类别", "楼道及路灯"), ("处理进度", "处理中")]
    assert "详情" in card and "点「详情」进入：居民工单页" in part
    save(admin, mapping, channel="sms")
    part = section(admin.get("/notify/").get_data(as_text=True), mapping)
    assert "wx-card" not in part and "【社区已收到】工单 20261102-0007 楼道及路灯" in part


def test_a_pasted_template_is_read_into_fields_to_check_before_saving(admin):
    mapping = mapping_of("accepted")
    content = "工单编号：{{character_string1.DATA}}\n处理进度：{{phrase3.DATA}}\n办结时限：{{time7.DATA}}"
    response = save(admin, mapping, content=content)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "已读出模板的 3 个字段" in body
    part = section(body, mapping)
    assert re.findall(r'name="field_name" value="(.*?)"', part) == ["工单编号", "处理进度", "办结时限"]
    assert re.findall(r'<option value="(\w+)" selected>', part)[-3:] == ["number", "status", "due"]
    db.session.expire_all()
    assert db.session.get(NotifyTemplate, mapping.id).template_id == "TPL_ACCEPTED"  # not saved yet
    response = save(admin, mapping, content="工单编号 20261102")
    assert response.status_code == 400 and "没有读到模板字段" in response.get_data(as_text=True)


def test_each_account_follows_the_shared_settings_until_given_its_own(admin, account):
    body = admin.get("/notify/?account=yanchenglu").get_data(as_text=True)
    shared = mapping_of("accepted")
    assert "沿用通用设置" in section(body, shared) and 'name="field_source"' not in section(body, shared)
    token = csrf_from(admin, "/notify/")
    response = admin.post("/notify/templates", data={"csrf_token": token, "event": "accepted", "account": "yanchenglu"})
    own = mapping_of("accepted", "yanchenglu")
    assert response.status_code == 303 and response.location.endswith(f"/notify/?account=yanchenglu#m-{own.id}")
    part = section(admin.get("/notify/?account=yanchenglu").get_data(as_text=True), own)
    assert 'name="field_source"' in part and "沿用通用设置" not in part and "盐城路社区" in part
    assert admin.get("/notify/?account=nowhere").status_code == 404


def test_kinds_of_message_nobody_set_up_are_named_and_can_be_set_up(admin):
    db.session.delete(mapping_of("withdrawn"))
    db.session.commit()
    body = visible(admin.get("/notify/").get_data(as_text=True))
    assert "有 1 类通知还没有设置，目前不会发出：主任：居民撤回诉求" in body
    response = admin.post("/notify/defaults", data={"csrf_token": csrf_from(admin, "/notify/")},
                          follow_redirects=True)
    assert "已补上 1 类通知的默认设置" in response.get_data(as_text=True) and mapping_of("withdrawn") is not None


@pytest.mark.pure
def test_a_template_pasted_from_wechat_is_read_with_a_guess_for_each_field():
    content = ("{{first.DATA}}\n工单类别：{{thing2.DATA}}\n 处理进度: {{ phrase3.DATA }}\n地点：{{thing9.DATA}}\n"
               "预计上门：{{time5.DATA}}\n{{remark.DATA}}")
    assert read_content(content) == [["thing2", "category", "工单类别"], ["phrase3", "status", "处理进度"],
                                     ["thing9", "category", "地点"], ["time5", "time", "预计上门"]]
    fields = [["character_string1", "number"], ["thing2", "description", "问题"]]
    assert preview(fields) == [("工单编号", "20261102-0007"), ("问题", "3号楼2单元楼道灯坏了一个多星期，晚上…")]


def test_every_message_has_a_place_on_the_page(admin):
    from dispatch.notify.rules import EVENT_LABELS
    from dispatch.notify.views import GROUPS
    assert {label.split("：")[0] for label in EVENT_LABELS.values()} <= set(GROUPS)
    assert admin.get("/notify/").status_code == 200


def test_the_admin_is_told_up_front_which_wechat_messages_cannot_go_out(admin):
    accepted = mapping_of("accepted")
    accepted.template_id = "TPL_ACCEPTED"
    db.session.commit()
    text = visible(admin.get("/notify/").get_data(as_text=True))
    assert "类微信通知发不出去" in text and "居民：社区已收到" in text
    accepted.template_id = "Hx8aF2real"
    for other in db.session.scalars(select(NotifyTemplate)):
        if other.template_id.startswith("TPL_"):
            other.template_id = "Hx8aF2real"
    db.session.commit()
    assert "发不出去" not in visible(admin.get("/notify/").get_data(as_text=True))
