"""Delivering the outbox: claim due rows (FOR UPDATE SKIP LOCKED on PostgreSQL), send them, record each outcome.

Any number of processes may drain at once: a claim is one UPDATE over rows nobody else holds, and a claimed
row is only ever taken again once its claim has lapsed (the holder died). A send repeated after such a lapse
carries the same client_msg_id, so WeChat delivers it once.
"""
import logging
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from flask import current_app
from sqlalchemy import exists, or_, select, update

from dispatch.extensions import db
from dispatch.notify.addresses import Address, addresses_for, mark_resident
from dispatch.notify.channels import Outgoing, Result, channel
from dispatch.notify.models import Notification, Status
from dispatch.notify.outbox import after_quiet_hours
from dispatch.notify.templates import load_mappings, mapping_for, render, text_of

log = logging.getLogger(__name__)
CLAIM_SECONDS = 300  # a claim older than this belongs to a process that died; its rows are taken again
BATCH = 200
HELD = Result("retry", code="held", message="等待同一工单的上一条通知先发出")


def claim(now, limit=BATCH):
    """Take up to `limit` due rows for this process; their ids."""
    table, earlier = Notification.__table__, Notification.__table__.alias("earlier")
    # A person hears of one ticket in order: nothing goes while an older message of theirs about it waits.
    waiting = select(earlier.c.id).where(
        earlier.c.ticket_id == table.c.ticket_id, earlier.c.id < table.c.id,
        earlier.c.status.in_((Status.PENDING, Status.SENDING)),
        or_(earlier.c.resident_id == table.c.resident_id, earlier.c.user_id == table.c.user_id))
    due = (select(table.c.id).where(table.c.status == Status.PENDING, table.c.next_attempt_at <= now,
                                    ~exists(waiting))
           .order_by(table.c.next_attempt_at, table.c.id).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = db.session.scalars(update(table).where(table.c.id.in_(due.scalar_subquery()),
                                                 table.c.status == Status.PENDING)
                             .values(status=Status.SENDING, claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
                                     attempts=table.c.attempts + 1)
                             .returning(table.c.id)).all()
    db.session.commit()
    return sorted(ids)


def release_lapsed(now):
    """Rows whose claim lapsed (their process died mid-send) become due again; how many."""
    table = Notification.__table__
    count = db.session.execute(update(table).where(table.c.status == Status.SENDING, table.c.claimed_until < now)
                               .values(status=Status.PENDING, next_attempt_at=now)).rowcount
    db.session.commit()
    return count


def drain(now, limit=BATCH, threads=None):
    """Claim and send batches until nothing is due; the number of rows settled."""
    release_lapsed(now)
    settled = 0
    while True:
        ids = claim(now, limit)
        if not ids:
            return settled
        settled += deliver(ids, now, threads)


def deliver(ids, now, threads=None):
    """Send the claimed rows (in parallel threads: the wait is WeChat's) and record every outcome."""
    rows = db.session.scalars(select(Notification).where(Notification.id.in_(ids)).order_by(Notification.id)).all()
    found, mappings = addresses_for(rows), load_mappings()
    plans = [(row, _outgoing(row, found.get(row.id), mappings, now)) for row in rows]
    _warm(plans, now)
    app = current_app._get_current_object()
    workers = threads or current_app.config["NOTIFY_THREADS"]

    def send_in_order(group):
        # One person's messages go one after another, oldest first: "accepted" never lands after "dispatched".
        with app.app_context():
            try:
                return _send_group(group, now)
            finally:
                db.session.remove()

    groups = {}
    for plan in plans:
        groups.setdefault(_recipient(plan), []).append(plan)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        settled = [(plan, result) for group, results in zip(groups.values(), pool.map(send_in_order, groups.values()))
                   for plan, result in zip(group, results)]
    _record([(row, name, out, result) for (row, (name, out, _)), result in settled], now)
    return len(rows)


def _send_group(group, now):
    """Results for one person's rows in order; after a send that must be retried, their later rows about the
    same ticket are held back rather than sent ahead of it."""
    results, stuck = [], set()
    for row, (name, out, early) in group:
        if early is None and row.ticket_id in stuck:
            results.append(HELD)
            continue
        result = early if early is not None else channel(name).send(out, now)
        if result.kind == "retry":
            stuck.add(row.ticket_id)
        results.append(result)
    return results


def _recipient(plan):
    row, (_, out, _) = plan
    return (out.openid or out.phone) if out is not None else ("row", row.id)


def _warm(plans, now):
    """Let each channel get ready once per batch (WeChat: the account's token, here, not in every thread)."""
    ready = {}
    for _, (name, out, early) in plans:
        if early is None:
            ready.setdefault(name, []).append(out)
    for name, outs in ready.items():
        warm = getattr(channel(name), "warm", None)
        if warm is not None:
            warm(outs, now)


def _outgoing(row, address, mappings, now):
    """(channel name, Outgoing or None, a Result decided without sending or None)."""
    address = address or Address()
    mapping = mapping_for(mappings, row.event, address.account_code)
    if mapping is None or not mapping.active:
        return None, None, Result("failed", code="no_template", message="没有为这类通知配置模板")
    if address.stopped:
        return mapping.channel, None, Result("stop", code="stopped", message=address.stopped)
    sender = channel(mapping.channel)
    if sender is None:
        return mapping.channel, None, Result("failed", code="no_channel", message=f"未知的通知渠道 {mapping.channel}")
    if sender.needs == "openid" and not (address.openid and address.account):
        return mapping.channel, None, Result("unreachable", code="no_openid", message=address.why or "没有微信联系方式")
    if sender.needs == "phone" and not address.phone:
        return mapping.channel, None, Result("unreachable", code="no_phone", message="没有手机号码")
    out = Outgoing(notification_id=row.id, account=address.account, openid=address.openid, phone=address.phone,
                   template_id=mapping.template_id, data=render(mapping.fields, row.facts), url=address.url(mapping),
                   client_msg_id=f"dispatch-{row.id}", text=text_of(row.event, row.facts))
    return mapping.channel, out, None


def _backoff(attempts):
    """Seconds before the next try: exponential from NOTIFY_RETRY_BASE_SECONDS, capped, with jitter."""
    base = current_app.config["NOTIFY_RETRY_BASE_SECONDS"]
    ceiling = current_app.config["NOTIFY_RETRY_MAX_SECONDS"]
    return min(ceiling, base * 2 ** max(0, attempts - 1)) * random.uniform(0.5, 1.5)


def _settlement(row, name, out, result, now):
    """The columns a result leaves on its row."""
    account_code = out.account.code if out is not None and out.account is not None else None
    values = {"id": row.id, "channel": name, "account_code": account_code, "claimed_until": None,
              "attempts": row.attempts,
              "error_code": result.code, "error": result.message, "msgid": result.msgid, "sent_at": None,
              "next_attempt_at": row.next_attempt_at, "status": None}
    if result is HELD:  # not tried: no attempt spent, due as soon as the message ahead of it goes
        values.update(status=Status.PENDING, next_attempt_at=now, attempts=row.attempts - 1)
    elif result.kind == "sent":
        values.update(status=Status.SENT, sent_at=now, error_code=None, error=None)
    elif result.kind == "retry" and row.attempts < current_app.config["NOTIFY_MAX_ATTEMPTS"]:
        later = now + timedelta(seconds=_backoff(row.attempts))
        if row.audience == "resident" and not row.urgent:
            later = after_quiet_hours(later, current_app.config["NOTIFY_QUIET_HOURS"])
        values.update(status=Status.PENDING, next_attempt_at=later)
    elif result.kind == "retry":
        values.update(status=Status.FAILED, error=f"重试 {row.attempts} 次仍未成功：{result.message}")
    else:
        values["status"] = {"stop": Status.STOPPED, "unreachable": Status.UNREACHABLE}.get(result.kind,
                                                                                           Status.FAILED)
    return values


def _record(outcomes, now):
    """Write every outcome in one statement; mark residents who left or refuse; tell the admin of bad setups."""
    values = [_settlement(row, name, out, result, now) for row, name, out, result in outcomes]
    if values:
        db.session.execute(update(Notification), values)
    for row, _, _, result in outcomes:
        # WeChat just said this resident left or refuses (an address already marked says "stopped").
        if result.kind == "stop" and result.code != "stopped" and row.resident_id:
            mark_resident(row.resident_id, result.code, now)
        if result.kind == "failed":
            log.error("notification %s (%s) failed: %s %s; the admin's notify page lists it", row.id, row.event,
                      result.code, result.message)
    db.session.commit()


def run_delivery(now):
    """The scheduler's job: drain what is due now."""
    return drain(now)
