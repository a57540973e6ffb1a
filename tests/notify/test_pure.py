"""Who hears what, WeChat's field rules and quiet hours: pure functions, no app."""
from datetime import datetime, timezone

import pytest

from dispatch.notify.outbox import after_quiet_hours
from dispatch.notify.rules import News, messages_for
from dispatch.tickets.consequences import messages_of
from dispatch.notify.templates import check_fields, field_type, fit, render

pytestmark = pytest.mark.pure

AT = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai


SLA_MESSAGES = {"sla_breach": ("breach",), "sla_escalation": ("escalated",)}


def news(kind, **kw):
    """The News of a change of this kind, with the messages the consequences table names for it."""
    messages = SLA_MESSAGES.get(kind) or messages_of(kind)
    return News(kind=kind, ticket_id=1, at=AT, facts={}, messages=messages, **kw)


def events(found):
    return sorted((m.event, m.audience, m.who) for m in found)


def test_a_dispatch_to_a_volunteer_tells_the_resident_and_the_volunteer():
    assert events(messages_for(news("dispatch", volunteer_id=7))) == [
        ("dispatched", "resident", "residents"), ("new_task", "volunteer", "volunteer")]


def test_a_forward_to_a_department_tells_only_the_resident():
    assert events(messages_for(news("dispatch"))) == [("dispatched", "resident", "residents")]


@pytest.mark.parametrize("kind, expected", [
    ("created", [("new_ticket", "director", "directors")]),
    ("take_back", [("taken_back_director", "director", "directors"),
                   ("task_taken_back", "volunteer", "previous_volunteer")]),  # never silent
    ("request_extension", [("extension_requested", "supervisor", "supervisors")]),
    ("approve_extension", [("delayed", "resident", "residents")]),
    ("comment", []),
])
def test_each_event_reaches_its_audience(kind, expected):
    assert events(messages_for(news(kind, previous_volunteer_id=3))) == expected


def test_a_department_return_tells_the_directors_and_a_volunteer_decline_does_not():
    assert events(messages_for(news("return", actor_role="department_user"))) == [
        ("department_return", "director", "directors")]
    assert messages_for(news("return", actor_role="volunteer")) == []


def test_urges_and_breaches_are_urgent_and_go_to_the_holder_or_the_chain():
    urge = messages_for(news("urge", volunteer_id=7))
    assert [(m.event, m.who, m.urgent) for m in urge] == [("urged", "volunteer", True)]
    breach = messages_for(news("sla_breach", to_role="assignee", to_user_ids=(7,)))
    assert [(m.event, m.audience, m.urgent) for m in breach] == [("breach", "volunteer", True)]
    assert messages_for(news("sla_escalation", to_role="street"))[0].audience == "supervisor"


def test_fields_are_cut_to_wechats_rules_with_an_ellipsis_never_refused():
    assert fit("thing", "居" * 25) == "居" * 19 + "…" and len(fit("thing", "居" * 25)) == 20
    assert fit("thing", "短") == "短"
    assert fit("character_string", "20261121-0001号") == "20261121-0001"
    long_ascii = fit("character_string", "x" * 40)
    assert len(long_ascii) == 32 and long_ascii.endswith("...")
    assert fit("phrase", "已派单给志愿者") == "已派单给志" and fit("phrase", "OK") == "处理中"
    assert fit("thing", "  多个   空格\n换行 ") == "多个 空格 换行"


def test_render_drops_first_and_remark_and_unknown_keys():
    data = render([["first", "number"], ["thing2", "category"], ["remark", "note"], ["weird", "note"]],
                  {"category": "楼道及路灯"})
    assert data == {"thing2": {"value": "楼道及路灯"}}
    assert field_type("thing12") == "thing" and field_type("first") is None and field_type("thing") is None


def test_the_admins_field_rows_are_checked():
    problems = check_fields([["first", "number"], ["thing2", "nothing"], ["thing3", "note"], ["thing3", "note"]])
    assert set(problems) == {0, 1, 3}


@pytest.mark.parametrize("local_hour, minute, wakes", [
    (23, 0, (7, 0)), (6, 59, (7, 0)), (22, 0, (7, 0)), (7, 0, None), (12, 0, None), (21, 59, None)])
def test_quiet_hours_hold_residents_messages_until_seven(local_hour, minute, wakes):
    at = datetime(2026, 11, 20, (local_hour - 8) % 24, minute, tzinfo=timezone.utc)
    result = after_quiet_hours(at, "22:00-07:00")
    if wakes is None:
        assert result == at
    else:
        shanghai = result.astimezone(timezone.utc).hour + 8
        assert (shanghai % 24, result.minute) == wakes and result > at
        assert (result - at).total_seconds() < 10 * 3600


def test_no_quiet_hours_when_blank():
    assert after_quiet_hours(AT, "") == AT
