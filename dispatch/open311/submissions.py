"""POST requests: store what was sent, then open an ordinary ticket from it; a failure is kept and retried."""
import logging
import re
import secrets
from datetime import timedelta

from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from dispatch.errors import AppError, Forbidden, NotFound
from dispatch.extensions import db
from dispatch.open311 import catalog, params
from dispatch.open311.models import Open311Submission
from dispatch.open311.services import jurisdiction, service_category
from dispatch.org.models import ApiToken
from dispatch.org.principal import Principal
from dispatch.org.services import communities_in_scope, community_by_id
from dispatch.tickets import pipeline
from dispatch.tickets.store import NewTicket
from dispatch.tickets.models import Channel
from dispatch.tickets.scopes import community_in_scope

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
# A submission still "received" this long after it came was cut off mid-way (a killed worker, a lost database);
# after a failure the pause doubles: 2, 6, 14, 30 minutes after it came.
RETRY_AFTER = timedelta(minutes=2)
SECRET_FIELDS = ("api_key",)


def receive(principal, form, now):
    """Store a POST's arguments (form and query) as received, before anything is checked: nothing is lost."""
    submission = Open311Submission(
        token=secrets.token_hex(16), key_id=principal.token_id, received_at=now, status="received", attempts=0,
        params={k: form.getlist(k) for k in form if k not in SECRET_FIELDS})
    db.session.add(submission)
    db.session.commit()
    return submission


def process(principal, submission):
    """Open the submission's ticket, as of when it was received. A client's mistake is a 400 (kept as rejected);
    any other failure is kept as failed for the retry job, and None is returned so the client gets a token."""
    tries = submission.attempts + 1  # counted here: a rollback below would forget an increment on the row
    try:
        with pipeline.unit():
            ticket = _open_ticket(principal, submission, submission.received_at)
            submission.status, submission.ticket_id, submission.error = "processed", ticket.id, None
            submission.attempts = tries
        return ticket
    except (AppError, ValidationError) as exc:
        _settle(submission, "rejected", _message(exc), tries)
        raise
    except Exception as exc:  # the database or a bug, not the client: keep it and try again later
        log.exception("Open311 submission %s failed", submission.token)
        _settle(submission, "failed", _failure(exc), tries)
        return None


def _settle(submission, status, error, tries):
    """Record how a submission ended, in its own transaction (the ticket's was rolled back)."""
    db.session.rollback()
    submission.status, submission.error, submission.attempts = status, error, tries
    db.session.commit()


def _failure(exc):
    """What went wrong on our side, in a line: the database's own message, never the statement's parameters
    (they hold the reporter's phone and words)."""
    text = str(getattr(exc, "orig", None) or exc).splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def _message(exc):
    """A validation error's messages as one line."""
    if isinstance(exc, ValidationError) and isinstance(exc.messages, dict):
        return "；".join(params.field_lines(exc.messages))
    return str(getattr(exc, "message", exc))


def _open_ticket(principal, submission, now):
    """The ticket a checked submission becomes (flushed, inside the caller's transaction)."""
    form = MultiDict([(k, v) for k, values in submission.params.items() for v in values])
    data = params.request_form(form)
    place = jurisdiction(data.get("jurisdiction_id"))
    category = _category(data["service_code"])
    answers = params.answers(form, catalog.attributes_of(category.code))
    community = community_for(principal, place, data.get("address_string"))
    columns = {"latitude": data["lat"], "longitude": data["long"]} if "lat" in data else {}
    ticket = pipeline.open_ticket(principal, NewTicket(
        description=_description(data.get("description"), category, answers), community=community,
        # No resident_name: the phone may be a resident's already, and a client must not rename them.
        channel=Channel.OPEN311, category=category, address=_address(data), resident_phone=data.get("phone"),
        columns=columns,
        extra={"open311": submission.token, **({"attributes": answers.values} if answers.values else {})}), now)
    for name in ("email", "account_id", "device_id", "address_id", "media_url"):
        setattr(submission, name, data.get(name))
    submission.attributes = answers.values
    return ticket


def _category(code):
    """The category a service_code names; a 400 naming the code when there is none."""
    try:
        return service_category(code)
    except NotFound as exc:
        raise params.bad(f"service_code：{exc.message}") from None


def _description(text, category, answers):
    """The ticket's words: what the client wrote, and the attribute answers for staff to read."""
    text = text or f"{category.name}（通过 Open311 提交，未附说明）"
    return f"{text}\n（{answers.text}）" if answers.text else text


def _address(data):
    """The address as given; an address_id alone is kept as the address staff see."""
    if data.get("address_string"):
        return data["address_string"]
    return f"地址编号 {data['address_id']}" if data.get("address_id") else None


def reporter_name(submission):
    """The name the client gave: 姓 then 名 for Chinese names, "first last" otherwise; None when none."""
    first, last = submission.sent("first_name"), submission.sent("last_name")
    if not (first or last):
        return None
    if re.search(r"[\u4e00-\u9fff]", first + last):
        return last + first
    return " ".join(part for part in (first, last) if part)


def community_for(principal, place, address):
    """The community a new request belongs to: the jurisdiction's, the key's, or the one its address names."""
    if place is not None and place.kind == "community":
        community = community_by_id(place.id)
    elif principal.community_id:
        community = community_by_id(principal.community_id)
    else:
        community = _by_address(principal, place, address)
    if community is None:
        raise params.bad("无法确定诉求所属社区：请用 jurisdiction_id 指定社区代码（见 discovery 的 jurisdictions），"
                         "或在 address_string 中写明道路名")
    if place is not None and not place.holds(community):
        if principal.community_id:  # the key's own community is the only place it may post
            raise Forbidden(f"此 api_key 只能在「{community.name}」提交诉求，不能在「{place.name}」")
        raise params.bad(f"社区「{community.name}」不在 jurisdiction_id「{place.code}」之内")
    if not community_in_scope(principal, community):
        raise Forbidden(f"此 api_key 不能在「{community.name}」提交诉求")
    return community


def _by_address(principal, place, address):
    """The one community (in scope) whose road the address names: 四川路社区 for 四川路22号; else None."""
    if not address:
        return None
    found = [c for c in communities_in_scope(principal) if (place is None or place.holds(c))
             and c.name.endswith("社区") and len(c.name) > 3 and c.name[:-2] in address]
    return found[0] if len(found) == 1 else None


def run_retries(now):
    """Scheduler job: try again what failed on our side or was cut off mid-way, pausing longer after each try
    (MAX_ATTEMPTS in all, then it is given up and logged); returns how many became tickets."""
    waiting = db.session.scalars(select(Open311Submission).where(
        Open311Submission.status.in_(("received", "failed")), Open311Submission.received_at <= now - RETRY_AFTER)
        .order_by(Open311Submission.id).limit(100)).all()
    done = 0
    for submission in waiting:
        if submission.attempts >= MAX_ATTEMPTS:
            log.error("Open311 submission %s given up after %s attempts: %s", submission.token, submission.attempts,
                      submission.error)
            _settle(submission, "abandoned", submission.error, submission.attempts)
        elif now - submission.received_at >= RETRY_AFTER * (2 ** submission.attempts - 1 or 1):
            done += _retry(submission)
    return done


def _retry(submission):
    """Process a submission again with its key, even one revoked since: it was accepted while the key was live."""
    principal = Principal.from_token(db.session.get(ApiToken, submission.key_id))
    try:
        return process(principal, submission) is not None
    except (AppError, ValidationError):
        return False  # kept as rejected, with the reason


def by_token(token):
    """The submission a token names; 404 when none."""
    submission = db.session.scalar(select(Open311Submission).where(Open311Submission.token == token))
    if submission is None:
        raise NotFound(f"找不到 token「{token}」")
    return submission


def of_ticket(ticket):
    """The submission a ticket was opened from, or None."""
    return db.session.scalar(select(Open311Submission).where(Open311Submission.ticket_id == ticket.id))


def key_name(submission):
    """The name of the key a submission came with."""
    return db.session.scalar(select(ApiToken.name).where(ApiToken.id == submission.key_id))
