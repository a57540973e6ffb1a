"""What a resident may do on their ticket page besides reporting and a first rating: 催一催, 撤回, 修改评价,
and following the ticket their report was merged into."""
from datetime import timedelta

from sqlalchemy import select

from dispatch.errors import Conflict, Invalid, NotFound
from dispatch.extensions import db
from dispatch.intake.wechat_service import RESIDENT
from dispatch.localtime import local
from dispatch.org.family import link_between
from dispatch.resident.services import check_choice
from dispatch.sla.calendar import CalendarUnknown, add_working, next_working_day_opens
from dispatch.sla.calendars import calendar_for
from dispatch.tickets import pipeline
from dispatch.tickets.lifecycle import ACTIONS, RATING, RESOLVING, Status
from dispatch.tickets.models import Ticket, TicketEvent, TicketReporter
from dispatch.tickets.pipeline import Command
from dispatch.tickets.ratings import RATINGS, rate as rate_command

MAX_REASON = 200
CHANGE_RATING_DAYS = 7
MERGE_HOPS = 10  # a merged ticket's kept one is found within a few hops (a merge of a merge)


def _when(instant):
    return f"{local(instant):%m月%d日 %H:%M}"


# ---- following a merged report ----

def kept_ticket(ticket):
    """The ticket a merged one was merged into, following merges of merges; None for a ticket not merged."""
    kept, hops = ticket, 0
    while kept.status is Status.MERGED and kept.merged_into_id and hops < MERGE_HOPS:
        kept, hops = db.session.get(Ticket, kept.merged_into_id), hops + 1
    return kept if kept is not ticket else None


def follows(resident, ticket):
    """Whether the resident hears this ticket's outcome as the reporter of a duplicate merged into it."""
    return db.session.scalar(select(TicketReporter.resident_id).where(
        TicketReporter.ticket_id == ticket.id, TicketReporter.resident_id == resident.id)) is not None


def reachable_ticket(resident, number):
    """The resident's own ticket, or one their merged report follows; anyone else's is like a missing one."""
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
    if ticket is None or not (ticket.resident_id == resident.id or follows(resident, ticket)
                              or link_between(resident.id, ticket.resident_id) is not None):
        raise NotFound("找不到这张工单")
    return ticket


def own_merged_into(resident, kept):
    """The resident's own merged ticket that leads to this kept one (newest first), or None."""
    merged = db.session.scalars(select(Ticket).where(Ticket.resident_id == resident.id,
                                                     Ticket.status == Status.MERGED)
                                .order_by(Ticket.id.desc())).all()
    return next((t for t in merged if (k := kept_ticket(t)) is not None and k.id == kept.id), None)


# ---- 催一催 ----

def _last(ticket, kind):
    return max((e for e in ticket.events if e.kind == kind), key=lambda e: e.id, default=None)


def nudge_refusal(ticket, now):
    """Why the resident cannot 催一催 now (kind words, saying when they can), or None when they can."""
    if ticket.status not in ACTIONS["nudge"].sources:
        if ticket.status is Status.WAITING_RESIDENT:
            return "工作人员正在等您补充情况，请先按上面的问题补充，我们收到后马上继续办理。"
        return "这张工单已经办完了，不用再催了。"
    due = promised_contact(ticket)
    if now < due:
        return f"承诺的联系时间是 {_when(due)}，到时还没人联系您，可以在这里催一催。"
    last = _last(ticket, "nudge")
    if last is not None:
        again = _next_nudge(ticket, last.at)
        if now < again:
            return f"您已经催过了，工作人员已收到。{_when(again)} 以后还没人联系您，可以再催一次。"
    return None


def promised_contact(ticket):
    """The promised response time; without an SLA policy, the usual promise: one working day after reporting."""
    if ticket.response_due_at is not None:
        return ticket.response_due_at
    try:
        calendar = calendar_for(ticket.community)
        return add_working(calendar, ticket.created_at, calendar.day_minutes)
    except CalendarUnknown:
        return ticket.created_at + timedelta(days=1)


def _next_nudge(ticket, last_at):
    """When the next working day opens after the last 催一催 (the next calendar day if the calendar is unknown)."""
    try:
        return next_working_day_opens(calendar_for(ticket.community), last_at)
    except CalendarUnknown:
        return last_at + timedelta(days=1)


def nudge(ticket, now):
    """Press the ticket's holder and director: once per working day, after the promised contact time."""
    refusal = nudge_refusal(ticket, now)
    if refusal:
        raise Conflict(refusal)
    return pipeline.act(RESIDENT, ticket, "nudge", note="居民催一催：承诺的联系时间已过，还没有人联系", now=now)


# ---- 撤回 ----

def withdraw_refusal(resident, ticket):
    """Why the resident cannot withdraw this ticket, or None."""
    if ticket.resident_id != resident.id:
        return "这张工单是其他居民提交的，不能由您撤回。"
    if ticket.status not in ACTIONS["withdraw_by_resident"].sources:
        return "工作人员已经在办理这张工单了，不能再撤回。如果问题已经解决，请打电话告诉社区。"
    if db.session.scalar(select(TicketReporter.resident_id).where(TicketReporter.ticket_id == ticket.id).limit(1)):
        return "还有其他居民反映了同样的问题，这张工单不能撤回。如果问题已经解决，请打电话告诉社区。"
    return None


def withdraw(resident, ticket, reason, now):
    """The resident takes back a ticket nobody has been sent to yet; the director hears of it."""
    refusal = withdraw_refusal(resident, ticket)
    if refusal:
        raise Conflict(refusal)
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise Invalid(f"原因最多 {MAX_REASON} 字，现在是 {len(reason)} 字，请删减一些", fields={"reason": ["过长"]})
    return pipeline.act(RESIDENT, ticket, "withdraw_by_resident", note=f"撤回原因：{reason or '未说明'}", now=now)


def withdrawn(tickets):
    """The ids of those tickets the resident withdrew (one query for a list)."""
    ids = [t.id for t in tickets if t.status is Status.INVALID]
    if not ids:
        return set()
    return set(db.session.scalars(select(TicketEvent.ticket_id).where(TicketEvent.ticket_id.in_(ids),
                                                                       TicketEvent.kind == "withdraw_by_resident")))


# ---- 修改评价 ----

def _ratings(ticket):
    """The rating entries of the latest resolution, oldest first."""
    last_resolve = max((e.id for e in ticket.events if e.kind in RESOLVING), default=0)
    return sorted((e for e in ticket.events if e.kind in RATING and e.id > last_resolve), key=lambda e: e.id)


def latest_rating(ticket):
    """The entry of the latest resolution's latest rating, or None."""
    rated = _ratings(ticket)
    return rated[-1] if rated else None


def _rater(ticket, entry):
    """The resident whose rating an entry is: a follower's carries their id, the reporter's (or a call-back's) not."""
    return (entry.data or {}).get("resident_id", ticket.resident_id)


def change_until(ticket, resident):
    """Until when this resident may change the rating of the ticket's latest result (7 days from its first
    rating: changing it does not start the days again), or None."""
    rated = _ratings(ticket)
    if not rated or ticket.status not in (Status.RESOLVED, Status.CLOSED) or _rater(ticket, rated[-1]) != resident.id:
        return None
    return rated[0].at + timedelta(days=CHANGE_RATING_DAYS)


def change_refusal(ticket, resident, now):
    """Why the resident cannot change the rating now, or None."""
    until = change_until(ticket, resident)
    if until is None:
        entry = latest_rating(ticket)
        if entry is not None and ticket.status in (Status.RESOLVED, Status.CLOSED):
            return "这个评价是其他居民给的，您不能修改。"
        return "这张工单现在没有可以修改的评价。"
    if now > until:
        return f"评价只能在 {CHANGE_RATING_DAYS} 天内修改（到 {_when(until)} 为止），现在已经不能修改了。"
    return None


def change_rating(ticket, resident, rating, comment, now, redo=True):
    """A new rating in place of the last one: a new "rated" entry; now unsatisfied, it is redone unless declined."""
    refusal = change_refusal(ticket, resident, now)
    if refusal:
        raise Conflict(refusal)
    comment = check_choice(rating, comment)
    label, unsatisfied = RATINGS[rating], rating == "unsatisfied"
    data = {"changed": True, **({"resident_id": resident.id} if resident.id != ticket.resident_id else {}),
            **({"redo": redo} if unsatisfied else {})}
    commands = [rate_command(RESIDENT, ticket, rating, "居民修改评价：" + label + (f"：{comment}" if comment else ""),
                             comment=comment or None, source="resident", **data)]
    if unsatisfied and redo:
        commands.append(Command(RESIDENT, ticket, "reopen", note=f"居民修改评价为不满意：{comment or '未填写原因'}"))
    elif ticket.status is Status.RESOLVED:
        commands.append(Command(RESIDENT, ticket, "close", note=f"居民评价：{label}"))
    return pipeline.execute(*commands, now=now)
