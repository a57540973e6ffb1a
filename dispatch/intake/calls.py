"""One-tap call (一键拨号): the phone system reports a call; it opens a draft phone ticket for staff."""
from flask import Blueprint, g, url_for
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dispatch.api.common import API_PREFIX, authenticate_bearer, json_body
from dispatch.errors import NotFound
from dispatch.extensions import csrf, db
from dispatch.intake.models import PhoneCall
from dispatch.api.openapi import documented
from dispatch.org.services import requested_community
from dispatch.tickets import pipeline, services, store
from dispatch.tickets.models import Channel, Ticket
from dispatch.api.schemas import CODE, PHONE
from dispatch.timeutil import now as clock_now

bp = Blueprint("calls_api", __name__, url_prefix=API_PREFIX)
csrf.exempt(bp)
bp.before_request(authenticate_bearer)
CALL_PLACEHOLDER = "（来电，待工作人员补充内容）"


class CallIn(Schema):
    """POST /calls."""

    call_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    caller = fields.String(required=True, validate=PHONE)
    community = fields.String(validate=CODE, load_default=None)
    called_at = fields.AwareDateTime(load_default=None, metadata={"description": "ISO 8601 with offset"})
    recording_url = fields.Url(load_default=None, schemes={"http", "https"}, validate=validate.Length(max=500))


class CallOut(Schema):
    """A recorded call and the ticket it opened."""

    call_id = fields.String()
    caller = fields.String()
    community = fields.Function(lambda c: c["community"])
    called_at = fields.String()
    recording_url = fields.String(allow_none=True)
    ticket = fields.String(metadata={"description": "工单编号"})
    created = fields.Boolean(metadata={"description": "false when this call id was already recorded"})


CALL_IN, CALL_OUT = CallIn(), CallOut()


def record_call(principal, data, community, now):
    """Log a call and open its draft ticket; a call id seen before returns the first record (created=False)."""
    called_at = data["called_at"] or now
    try:
        with pipeline.unit():
            ticket = pipeline.open_ticket(principal, store.NewTicket(
                description=CALL_PLACEHOLDER, community=community, channel=Channel.PHONE,
                resident_phone=data["caller"], columns={"description_pending": True},
                extra={"call_id": data["call_id"], "recording_url": data["recording_url"]}), now=now)
            db.session.add(PhoneCall(call_id=data["call_id"], caller=data["caller"], community_id=community.id,
                                     called_at=called_at, recording_url=data["recording_url"], ticket_id=ticket.id,
                                     reported_by=principal.label, created_at=now))
        return _find(data["call_id"], principal), True
    except IntegrityError:  # the same call id, reported again (maybe at the same moment): the unique key decides
        return _find(data["call_id"], principal), False


def _find(call_id, principal):
    call = db.session.scalar(select(PhoneCall).where(PhoneCall.call_id == call_id))
    if call is None:
        raise NotFound("找不到该来电记录")
    services.get_visible(principal, db.session.get(Ticket, call.ticket_id).number)  # 404 outside scope
    return call


@bp.post("/calls")
@documented("记录来电（一键拨号），开出待补充的电话工单", CallOut, status=201, body=CallIn,
            also={200: "已记录过（同一 call_id），返回同一工单"})
def create_call():
    """Record a call from the phone system; a repeated call_id answers 200 with the same ticket."""
    data = CALL_IN.load(json_body())
    community = requested_community(g.principal, data["community"])
    call, created = record_call(g.principal, data, community, clock_now())
    ticket = db.session.get(Ticket, call.ticket_id)
    body = CALL_OUT.dump({"call_id": call.call_id, "caller": call.caller, "community": community.code,
                          "called_at": call.called_at.isoformat(), "recording_url": call.recording_url,
                          "ticket": ticket.number, "created": created})
    return body, 201 if created else 200, {"Location": url_for("tickets_api.get_ticket", number=ticket.number)}
