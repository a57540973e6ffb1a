"""The outbox end to end: written with the change, sent by the delivery job over HTTP to the stub, outcomes kept."""
from datetime import timedelta

from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.notify.delivery import drain
from dispatch.notify.models import Notification, NotifyTemplate, Status
from dispatch.org.models import Resident
from dispatch.org.principal import Principal
from dispatch.teams.models import Volunteer
from dispatch.tickets import pipeline
from tests.conftest import csrf_from, login
from tests.notify.conftest import OPENID


def rows(**where):
    query = select(Notification).order_by(Notification.id)
    for name, value in where.items():
        query = query.where(getattr(Notification, name) == value)
    db.session.expire_all()
    return db.session.scalars(query).all()


def act(org, ticket, name, who="director", **kw):
    return pipeline.act(Principal.from_user(getattr(org, who)), ticket, name, **kw)


def to_resident(stub):
    return [m for m in stub.sent if m["touser"] == OPENID]


def test_accepting_writes_the_message_with_the_change_and_the_job_sends_it(client, org, reported, wechat_api, clock):
    ticket = reported()
    login(client, "director")
    url = f"/tickets/{ticket.number}"
    response = client.post(f"{url}/actions/accept", data={"csrf_token": csrf_from(client, url),
                                                          "version": ticket.version})
    assert response.status_code in (302, 303)
    written = rows(event="accepted")
    # Written with the change, not sent inside the request.
    assert len(written) == 1 and written[0].status == Status.PENDING and wechat_api.sent == []
    assert drain(clock()) >= 1
    [message] = to_resident(wechat_api)
    note = rows(event="accepted")[0]
    assert note.status == Status.SENT and note.msgid and note.sent_at == clock()
    assert message["template_id"] == "TPL_ACCEPTED" and message["client_msg_id"] == f"dispatch-{note.id}"
    assert message["url"].endswith(f"/h5/yanchenglu/tickets/{ticket.number}")
    assert message["data"]["character_string1"]["value"] == ticket.number
    assert message["data"]["phrase3"]["value"] == "正在安排" and "first" not in message["data"]
    page = client.get(url).get_data(as_text=True)
    assert "已通知居民 10:00" in page


def test_every_step_reaches_the_resident_once_and_resolution_links_to_rating(org, reported, wechat_api, clock):
    ticket = reported()
    act(org, ticket, "accept")
    act(org, ticket, "dispatch", assignee="volunteer")
    for name in ("sign", "start"):
        act(org, ticket, name, who="volunteer")
    act(org, ticket, "resolve", who="volunteer", note="已更换楼道灯泡，并检查了二楼和四楼的线路，全部恢复照明")
    drain(clock())
    sent = to_resident(wechat_api)
    assert [m["template_id"] for m in sent] == ["TPL_ACCEPTED", "TPL_DISPATCHED", "TPL_VISIT_STARTED", "TPL_RESOLVED"]
    resolved = sent[-1]
    assert resolved["url"].endswith("#rating") and resolved["data"]["thing5"]["value"].endswith("…")
    assert len(resolved["data"]["thing5"]["value"]) == 20
    assert drain(clock()) == 0 and len(to_resident(wechat_api)) == 4  # nothing twice


def test_the_volunteer_hears_of_a_new_task_with_a_link_that_signs_them_in(org, reported, wechat_api, clock):
    db.session.add(Volunteer(user=org.volunteer, skills=["electrical"], openid="o_vol_li",
                             weekly_hours=["00:00-24:00"] * 7))  # on shift: the dispatch needs no confirmation
    db.session.commit()
    ticket = reported()
    act(org, ticket, "accept")
    act(org, ticket, "dispatch", assignee="volunteer", note="请带梯子")
    act(org, ticket, "withdraw", note="改派他人")
    drain(clock())
    to_volunteer = [m for m in wechat_api.sent if m["touser"] == "o_vol_li"]
    assert [m["template_id"] for m in to_volunteer] == ["TPL_NEW_TASK", "TPL_TASK_TAKEN_BACK"]
    assert f"/login/wechat/yanchenglu?next=/desk/tasks/{ticket.number}" in to_volunteer[0]["url"]


def test_staff_without_wechat_are_recorded_as_unreachable_not_retried(org, reported, wechat_api, clock):
    reported()
    drain(clock())
    [note] = rows(event="new_ticket")
    assert note.status == Status.UNREACHABLE and "未绑定微信" in note.error and wechat_api.calls == 0


def test_quiet_hours_hold_a_residents_message_until_seven(org, reported, wechat_api, clock):
    clock.at = clock.at.replace(hour=15)  # 23:00 in Shanghai
    ticket = reported()
    act(org, ticket, "accept", now=clock())
    drain(clock())
    assert to_resident(wechat_api) == [] and rows(event="accepted")[0].status == Status.PENDING
    clock.advance(hours=7, minutes=59)  # 06:59
    drain(clock())
    assert to_resident(wechat_api) == []
    clock.advance(minutes=1)
    drain(clock())
    assert len(to_resident(wechat_api)) == 1


def test_an_urgent_breach_reaches_a_director_at_night(app, org, reported, wechat_api, clock):
    org.director.wechat_openid = "o_director"
    db.session.commit()
    clock.at = clock.at.replace(hour=16)  # midnight in Shanghai
    ticket = reported()
    from dispatch.notify.outbox import publish
    from dispatch.notify.rules import News
    publish([News(kind="sla_breach", ticket_id=ticket.id, at=clock(), facts={"number": ticket.number}, messages=("breach",),
                  to_user_ids=(org.director.id,), to_role="director", urgent=True)])
    db.session.commit()
    drain(clock())
    to_director = [m["template_id"] for m in wechat_api.sent if m["touser"] == "o_director"]
    assert to_director == ["TPL_NEW_TICKET", "TPL_BREACH"]


def test_an_expired_token_is_refreshed_once_and_the_send_goes_through(org, reported, wechat_api, clock):
    ticket = reported()
    act(org, ticket, "accept")
    act(org, ticket, "dispatch", department="water")
    drain(clock())
    fetched = wechat_api.token_fetches
    wechat_api.tokens.clear()  # WeChat retired the token: the next send answers 40001
    act(org, ticket, "sign", who="dept")
    act(org, ticket, "start", who="dept")
    drain(clock())
    assert wechat_api.token_fetches == fetched + 1 and rows(event="visit_started")[0].status == Status.SENT


def test_busy_and_rate_limits_back_off_then_send_and_give_up_after_the_limit(app, org, reported, wechat_api, clock):
    ticket = reported()
    wechat_api.fail_next.extend([-1, 45009])
    act(org, ticket, "accept")
    drain(clock())
    [note] = rows(event="accepted")
    assert note.status == Status.PENDING and note.attempts == 1 and note.error_code == "-1"
    assert note.next_attempt_at > clock()
    clock.advance(seconds=45)  # base 30 s with jitter up to 1.5×
    drain(clock())
    assert rows(event="accepted")[0].error_code == "45009"
    clock.advance(minutes=2)
    drain(clock())
    assert rows(event="accepted")[0].status == Status.SENT and len(to_resident(wechat_api)) == 1

    app.config["NOTIFY_MAX_ATTEMPTS"] = 2
    try:
        wechat_api.fail_next.extend([-1, -1])
        act(org, ticket, "dispatch", department="water")
        drain(clock())
        clock.advance(minutes=2)
        drain(clock())
        [failed] = rows(event="dispatched")
        assert failed.status == Status.FAILED and "重试 2 次" in failed.error
    finally:
        app.config["NOTIFY_MAX_ATTEMPTS"] = 8


def test_a_resident_who_unfollowed_is_marked_and_not_sent_to_again(client, org, reported, wechat_api, clock):
    wechat_api.errors[OPENID] = 43004
    ticket = reported()
    act(org, ticket, "accept")
    drain(clock())
    assert rows(event="accepted")[0].status == Status.STOPPED
    assert db.session.get(Resident, ticket.resident_id).subscribed is False
    calls = wechat_api.calls
    act(org, ticket, "dispatch", department="water")
    drain(clock())
    assert rows(event="dispatched")[0].status == Status.STOPPED and wechat_api.calls == calls
    login(client, "director")
    assert "居民已取消关注公众号" in client.get(f"/tickets/{ticket.number}").get_data(as_text=True)


def test_a_resident_who_refuses_messages_is_marked(org, reported, wechat_api, clock):
    wechat_api.errors[OPENID] = 43101
    ticket = reported()
    act(org, ticket, "accept")
    drain(clock())
    assert rows(event="accepted")[0].status == Status.STOPPED
    assert db.session.get(Resident, ticket.resident_id).messages_refused_at == clock()


def test_a_wrong_template_id_fails_once_is_shown_to_the_admin_and_sent_after_the_fix(
        client, org, reported, wechat_api, clock):
    wechat_api.templates = {"REAL_ACCEPTED"}
    ticket = reported()
    act(org, ticket, "accept")
    drain(clock())
    calls = wechat_api.calls
    clock.advance(hours=2)
    drain(clock())
    [note] = rows(event="accepted")
    assert note.status == Status.FAILED and note.error_code == "40037" and wechat_api.calls == calls
    login(client, "admin")
    assert "有 1 条通知因配置或网络问题未能发出" in client.get("/").get_data(as_text=True)
    page = client.get("/notify/").get_data(as_text=True)
    assert "模板 ID 不存在，请核对模板 ID" in page and "错误码 40037" in page and ticket.number in page
    mapping = db.session.scalar(select(NotifyTemplate).where(NotifyTemplate.event == "accepted"))
    form = {"csrf_token": csrf_from(client, "/notify/"), "template_id": "REAL_ACCEPTED", "channel": "wechat_template",
            "page": "ticket", "field_key": ["character_string1", "thing2"], "field_source": ["number", "category"],
            "field_name": ["工单编号", "工单类别"], "active": "1"}
    assert client.post(f"/notify/templates/{mapping.id}", data=form).status_code == 303
    client.post("/notify/retry", data={"csrf_token": csrf_from(client, "/notify/")})
    drain(clock())
    assert rows(event="accepted")[0].status == Status.SENT
    assert to_resident(wechat_api)[0]["data"] == {"character_string1": {"value": ticket.number},
                                                  "thing2": {"value": "楼道及路灯"}}


def test_the_mapping_page_refuses_bad_fields_and_is_for_admins_only(client, org):
    login(client, "director")
    assert client.get("/notify/").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_from(client, "/")})
    login(client, "admin")
    mapping = db.session.scalar(select(NotifyTemplate).where(NotifyTemplate.event == "accepted"))
    form = {"csrf_token": csrf_from(client, "/notify/"), "template_id": "X", "channel": "pigeon", "page": "ticket",
            "field_key": ["first", "thing2"], "field_source": ["number", "nothing"], "field_name": ["首行", "工单类别"]}
    response = client.post(f"/notify/templates/{mapping.id}", data=form)
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "第 1 个字段「首行」：这不是模板里的字段" in body
    assert "第 2 个字段「工单类别」：请从列表中选择要填入的内容" in body and "pigeon" not in body
    db.session.expire_all()
    assert db.session.get(NotifyTemplate, mapping.id).template_id == "TPL_ACCEPTED"


def test_reporters_of_a_merged_duplicate_hear_the_outcome(org, reported, wechat_api, clock, account):
    neighbour = Resident(account_code=account.code, openid="o_neighbour", community_id=account.community_id)
    db.session.add(neighbour)
    db.session.commit()
    first, second = reported(), reported(who=neighbour)
    act(org, first, "accept")
    act(org, second, "merge", into=first.number)
    act(org, first, "resolve", note="已修好")
    drain(clock())
    to_neighbour = [m["template_id"] for m in wechat_api.sent if m["touser"] == "o_neighbour"]
    assert to_neighbour == ["TPL_RESOLVED"]


def test_a_send_repeated_after_a_lapsed_claim_is_delivered_once(org, reported, wechat_api, clock):
    ticket = reported()
    act(org, ticket, "accept")
    drain(clock())
    [note] = rows(event="accepted")
    # The process that sent it died before recording: the row is still claimed, and its claim lapses.
    note.status, note.claimed_until = Status.SENDING, clock() - timedelta(seconds=1)
    db.session.commit()
    drain(clock())
    assert rows(event="accepted")[0].status == Status.SENT
    assert len(to_resident(wechat_api)) == 1 and wechat_api.calls == 2


def test_two_delivery_processes_share_the_queue_without_sending_twice(app, org, reported, wechat_api, clock):
    for _ in range(30):
        act(org, reported(), "accept")
    results = []

    def worker():
        with app.app_context():
            results.append(drain(clock()))

    from tests.conftest import at_once
    at_once(worker, 2)
    assert sum(results) == db.session.scalar(select(func.count()).select_from(Notification))
    assert len(to_resident(wechat_api)) == 30 and wechat_api.calls == 30


def test_the_sla_sweep_writes_breaches_and_escalations_for_the_people_it_names(org, reported, wechat_api, clock):
    from datetime import datetime

    from dispatch.sla import policies
    from dispatch.sla.sweep import run_sla_sweep
    from tests.sla.test_sla_life import sh

    policies.seed_defaults()
    org.director.wechat_openid, org.street.wechat_openid = "o_director", "o_street"
    db.session.commit()
    reported(category=None)
    run_sla_sweep(datetime.fromisoformat(sh("2026-11-24 12:00")))
    breaches = {(n.event, n.audience, n.user_id) for n in rows() if n.event in ("breach", "escalated")}
    assert ("breach", "director", org.director.id) in breaches
    assert ("escalated", "supervisor", org.street.id) in breaches
    drain(datetime.fromisoformat(sh("2026-11-24 12:00")))
    assert {"o_director", "o_street"} <= {m["touser"] for m in wechat_api.sent}


def test_a_mapping_may_use_the_one_time_subscription_or_the_log_channel(org, reported, wechat_api, clock):
    for event, name in (("accepted", "wechat_subscribe"), ("dispatched", "log")):
        mapping = db.session.scalar(select(NotifyTemplate).where(NotifyTemplate.event == event))
        mapping.channel = name
    db.session.commit()
    ticket = reported()
    act(org, ticket, "accept")
    act(org, ticket, "dispatch", department="water")
    drain(clock())
    [subscribed] = to_resident(wechat_api)
    assert subscribed["template_id"] == "TPL_ACCEPTED" and "社区已收到" in subscribed["data"]["content"]["value"]
    logged = rows(event="dispatched")[0]
    assert logged.status == Status.SENT and logged.channel == "log" and logged.msgid == f"log-{logged.id}"


def test_an_sms_mapping_without_a_provider_fails_visibly(org, reported, wechat_api, clock):
    mapping = db.session.scalar(select(NotifyTemplate).where(NotifyTemplate.event == "accepted"))
    mapping.channel = "sms"
    db.session.commit()
    act(org, reported(), "accept")
    drain(clock())
    [note] = rows(event="accepted")
    assert note.status == Status.FAILED and note.error_code == "sms_unconfigured"


def test_a_directors_wechat_is_bound_from_the_command_line(app, org):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "wechat", "director", "o_director_1"])
    assert result.exit_code == 0 and "o_director_1" in result.output
    db.session.expire_all()
    assert org.director.wechat_openid == "o_director_1"
    assert runner.invoke(args=["users", "wechat", "director", "bad id!"]).exit_code != 0
    assert runner.invoke(args=["users", "wechat", "nobody", "o_director_1"]).exit_code != 0
    runner.invoke(args=["users", "wechat", "director", "--clear"])
    db.session.expire_all()
    assert org.director.wechat_openid is None
