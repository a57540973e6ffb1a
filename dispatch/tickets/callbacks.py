"""Call-backs (回访): staff phone the resident about a resolved ticket and keep what they heard on the timeline."""
from dispatch.errors import Conflict, Invalid
from dispatch.tickets.pipeline import Command, check_version, execute
from dispatch.tickets.lifecycle import MANAGERS, ActionNotPermitted, Status
from dispatch.tickets.ratings import RATINGS, rate, rated_since_resolved

CALLBACK_STATUSES = frozenset({Status.RESOLVED, Status.CLOSED})
MAX_NOTE = 500
REACHED = {True: "已接通", False: "未接通"}


def can_call_back(principal, ticket):
    """Whether this caller may record a call-back on this ticket now."""
    return principal.role in MANAGERS and ticket.status in CALLBACK_STATUSES


def check_callback(principal, ticket, reached, rating, note, version=None):
    """Refuse a call-back that cannot be recorded (role, state, version, input); returns the note trimmed."""
    if principal.role not in MANAGERS:
        raise ActionNotPermitted(f"{principal.role.label}不能记录回访")
    if ticket.status not in CALLBACK_STATUSES:
        raise Conflict(f"工单办结后才能回访。这张工单现在是「{ticket.status.label}」")
    check_version(ticket, version)
    if reached is None:
        raise Invalid("请选择电话是否接通（已接通 / 未接通）", fields={"reached": ["必选"]})
    if rating is not None and rating not in RATINGS:
        raise Invalid("满意度请选择「满意」「基本满意」或「不满意」，居民没有表态可以不选", fields={"rating": ["未知的选项"]})
    if rating and not reached:
        raise Invalid("选了「未接通」就不能记录满意度；如果和居民通上了话，请选「已接通」",
                      fields={"rating": ["未接通时不填"]})
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise Invalid(f"回访情况最多 {MAX_NOTE} 字，现在是 {len(note)} 字，请删减一些", fields={"note": ["过长"]})
    return note or None


def record_callback(principal, ticket, reached, rating, note, now, version=None):
    """Keep a call-back; a satisfaction heard for an unrated resolution becomes its rating. True when it did."""
    note = check_callback(principal, ticket, reached, rating, note, version)
    rates = bool(rating) and ticket.status is Status.RESOLVED and not rated_since_resolved(ticket)
    commands = [Command(principal, ticket, "callback", note=note, fields={"reached": reached, "rating": rating})]
    if rates:
        label = RATINGS[rating]
        commands.append(rate(principal, ticket, rating, f"{label}（电话回访）", source="callback"))
        if rating != "unsatisfied":  # unsatisfied stays resolved: staff decide on 重办 from the page
            commands.append(Command(principal, ticket, "close", note=f"回访{label}，关闭"))
    execute(*commands, now=now)
    return rates
