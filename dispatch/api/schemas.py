"""marshmallow schemas: input schemas validate what callers send, output schemas shape what they get."""
from datetime import datetime, time, timezone

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate, validates_schema
from marshmallow.experimental.context import Context

from dispatch.org.principal import phone_for
from dispatch.api.org_schemas import CodeName
from dispatch.forms import MaxLength, Version
from dispatch.tickets.lifecycle import STAFF_TRANSITIONS, Status, allowed_actions
from dispatch.tickets.models import Channel, Priority
from dispatch.tickets.ratings import RATINGS
from dispatch.tickets.callbacks import MAX_NOTE as CALLBACK_NOTE
from dispatch.sla import services as sla
from dispatch.timeutil import SHANGHAI, as_utc, now

CODE = validate.Regexp(r"^[a-z0-9_]{1,32}$", error="应为小写字母、数字或下划线组成的代码")
PHONE = validate.Regexp(r"^\+?[0-9][0-9-]{4,19}$", error="电话号码格式不正确")
API_CHANNELS = [Channel.API.value, Channel.PHONE.value, Channel.WEB_FORM.value]


def _choice(values):
    return validate.OneOf(values, error="应为以下之一：{choices}")


class ResidentIn(Schema):
    """The resident behind a request, as far as the caller knows them."""

    phone = fields.String(validate=PHONE, load_default=None)
    name = fields.String(validate=validate.Length(max=64), load_default=None)


class TicketCreateIn(Schema):
    """POST /tickets."""

    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    community = fields.String(validate=CODE, load_default=None)
    channel = fields.String(validate=_choice(API_CHANNELS), load_default=Channel.API.value)
    category = fields.String(validate=CODE, load_default=None)
    priority = fields.String(validate=_choice([p.value for p in Priority]), load_default=None)
    address = fields.String(validate=validate.Length(max=200), load_default=None)
    resident = fields.Nested(ResidentIn, load_default=dict)

    @post_load
    def _strip(self, data, **kwargs):
        data["description"] = data["description"].strip()
        if not data["description"]:
            raise ValidationError({"description": ["不能为空"]})
        return data


class CommaList(fields.String):
    """A query parameter holding one value or several separated by commas."""

    def __init__(self, choices, **kwargs):
        super().__init__(**kwargs)
        self.choices = choices

    def _deserialize(self, value, attr, data, **kwargs):
        items = [v.strip() for v in super()._deserialize(value, attr, data, **kwargs).split(",") if v.strip()]
        unknown = [v for v in items if v not in self.choices]
        if unknown:
            raise ValidationError(f"未知的取值：{', '.join(unknown)}；可选：{', '.join(self.choices)}")
        return items


class Instant(fields.String):
    """A date (whole day in Asia/Shanghai) or an ISO 8601 date-time; naive times are Shanghai time."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValidationError("应为 YYYY-MM-DD 或 ISO 8601 时间") from exc
        if len(text) == 10:
            parsed = datetime.combine(parsed.date(), time())
        return as_utc(parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI))


class TicketListIn(Schema):
    """GET /tickets query parameters; unknown parameters are ignored, as browsers add their own."""

    class Meta:
        unknown = EXCLUDE

    status = CommaList([s.value for s in Status], load_default=None)
    channel = CommaList([c.value for c in Channel], load_default=None)
    community = fields.String(validate=CODE, load_default=None)
    street = fields.String(validate=CODE, load_default=None)
    category = fields.String(validate=CODE, load_default=None)
    created_from = Instant(load_default=None)
    created_to = Instant(load_default=None, metadata={"description": "不含该时刻；只给日期时为该日 0 点（上海时间）"})
    overdue = fields.Boolean(load_default=False)
    q = fields.String(validate=validate.Length(max=100), load_default=None)
    page = fields.Integer(validate=validate.Range(min=1, max=100000), load_default=1)
    per_page = fields.Integer(validate=validate.Range(min=1, max=100), load_default=20)


class VersionedIn(Schema):
    """An action body: the version the caller saw, when sent, guards against overwriting someone else's change."""

    version = Version(load_default=None)
    note = fields.String(validate=MaxLength(), load_default=None)


class TransitionIn(VersionedIn):
    """POST /tickets/{number}/transitions."""

    action = fields.String(required=True, validate=_choice(list(STAFF_TRANSITIONS)))
    assignee = fields.String(validate=validate.Length(max=64), load_default=None)
    department = fields.String(validate=CODE, load_default=None)
    confirm = fields.Boolean(load_default=False, metadata={
        "description": "派给请假、不在班或没有所需技能的志愿者时须为 true；否则答 422，fields.confirm 列出原因"})
    into = fields.String(validate=validate.Length(max=24), load_default=None)
    extension_days = fields.Integer(validate=validate.Range(min=1, max=60), load_default=None,
                                    metadata={"description": "延期天数（申请或批准延期时）"})


class AcceptIn(VersionedIn):
    """POST /tickets/{number}/accept."""


class ClassifyIn(VersionedIn):
    """POST /tickets/{number}/classify: a new category, a new priority, or both."""

    category = fields.String(validate=CODE, load_default=None)
    priority = fields.String(validate=_choice([p.value for p in Priority]), load_default=None)

    @validates_schema
    def _something(self, data, **kwargs):
        if not data.get("category") and not data.get("priority"):
            raise ValidationError("至少给出 category 或 priority 之一", "_schema")


class CommentIn(Schema):
    """POST /tickets/{number}/comments."""

    note = fields.String(required=True, validate=MaxLength(min=1))


class CallbackIn(Schema):
    """POST /tickets/{number}/callbacks: a call-back (回访) to the resident of a resolved or closed ticket."""

    reached = fields.Boolean(required=True, metadata={"description": "电话是否接通"})
    rating = fields.String(validate=_choice(list(RATINGS)), load_default=None, allow_none=True,
                           metadata={"description": "居民满意度（接通时选填）；尚无评价的已办结工单以此为评价"})
    note = fields.String(validate=validate.Length(max=CALLBACK_NOTE), load_default=None, allow_none=True)
    version = Version(load_default=None)


# ---- output ----

def _principal():
    return Context.get()["principal"]


class CategoryOut(CodeName):
    """A category as clients see it."""

    default_priority = fields.Function(lambda c: c.default_priority.value)


class EventOut(Schema):
    """One entry of a ticket's timeline."""

    at = fields.Function(lambda e: e.at.astimezone(timezone.utc).isoformat())
    kind = fields.String()
    actor = fields.String(attribute="actor_label")
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    data = fields.Dict()


def _iso(value):
    return value.isoformat() if value else None


def _clock(view):
    return {"due_at": _iso(view.due_at), "state": view.state, "working_time": view.working,
            "minutes_left": round(view.minutes_left, 1) if view.minutes_left is not None else None}


# What Function fields return, for the OpenAPI document (a Function field without a type is a string there).
NULLABLE_STRING = {"type": ["string", "null"]}
STRINGS = {"type": "array", "items": {"type": "string"}}
CLOCK_SHAPE = {"type": ["object", "null"], "properties": {
    "due_at": NULLABLE_STRING, "working_time": {"type": "boolean"},
    "state": {"enum": ["running", "warning", "overdue", "paused", "met", "missed"]},
    "minutes_left": {"type": ["number", "null"]}}}
SLA_SHAPE = {"type": "object", "description": "Both SLA clocks (null when the ticket has none).", "properties": {
    "policy_id": {"type": ["integer", "null"]}, "deadline_at": NULLABLE_STRING, "paused_at": NULLABLE_STRING,
    "paused_seconds": {"type": "integer"}, "error": NULLABLE_STRING,
    "response": CLOCK_SHAPE, "resolution": CLOCK_SHAPE}}


def _sla(ticket):
    """Both SLA clocks: due times, state (running, warning, overdue, paused, met, missed) and time left."""
    shown = {view.name: _clock(view) for view in sla.views(ticket, now())}
    return {"policy_id": ticket.sla_policy_id, "deadline_at": _iso(ticket.sla_deadline_at),
            "paused_at": _iso(ticket.sla_paused_at), "paused_seconds": ticket.sla_paused_seconds or 0,
            "error": ticket.sla_error, "response": shown.get("response"), "resolution": shown.get("resolution")}


class TicketOut(Schema):
    """A ticket in a list."""

    number = fields.String()
    status = fields.Function(lambda t: t.status.value)
    status_label = fields.Function(lambda t: t.status.label)
    channel = fields.Function(lambda t: t.channel.value)
    priority = fields.Function(lambda t: t.priority.value)
    community = fields.Function(lambda t: t.community.code)
    category = fields.Function(lambda t: t.category.code if t.category else None, allow_none=True)
    description = fields.String()
    address = fields.String(allow_none=True)
    created_at = fields.Function(lambda t: _iso(t.created_at))
    updated_at = fields.Function(lambda t: _iso(t.updated_at))
    response_due_at = fields.Function(lambda t: _iso(t.response_due_at), allow_none=True)
    resolution_due_at = fields.Function(lambda t: _iso(t.resolution_due_at), allow_none=True)
    sla = fields.Function(_sla, metadata=SLA_SHAPE)
    version = fields.Integer()


class TicketDetailOut(TicketOut):
    """A ticket with its resident (phone masked unless the caller is their community's staff) and timeline."""

    resident = fields.Function(lambda t: {"name": t.resident.name if t.resident else None,
                                          "phone": phone_for(_principal(), t.resident)},
                               metadata={"type": "object", "properties": {"name": NULLABLE_STRING,
                                                                          "phone": NULLABLE_STRING}})
    assignee = fields.Function(lambda t: t.assignee.username if t.assignee else None, allow_none=True)
    department = fields.Function(lambda t: t.department.code if t.department else None, allow_none=True)
    photos = fields.Function(lambda t: [f"/media/{p.storage_key}" for p in t.photos], metadata=STRINGS)
    allowed_actions = fields.Function(
        lambda t: [a.name for a in allowed_actions(t.status, _principal().role)], metadata=STRINGS)
    accepted_at = fields.Function(lambda t: _iso(t.accepted_at), allow_none=True)
    resolved_at = fields.Function(lambda t: _iso(t.resolved_at), allow_none=True)
    closed_at = fields.Function(lambda t: _iso(t.closed_at), allow_none=True)
    timeline = fields.List(fields.Nested(EventOut), attribute="events")


class PageOut(Schema):
    """A page of tickets."""

    items = fields.List(fields.Nested(TicketOut))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()
