"""Phone intake (一键拨号): the call form staff fill in while talking, checked and turned into a NewTicket."""
import re

from marshmallow import EXCLUDE, Schema, fields, validate

from dispatch.org.principal import check_phone
from dispatch.tickets.models import Channel, Priority
from dispatch.tickets.store import NewTicket

FIELDS = ("caller_phone", "caller_name", "community", "address", "description", "category", "priority")


def _one_of(choices, message):
    """A choice validator with a Chinese message."""
    return validate.OneOf(list(choices), error=message)


def _schema(community_codes, category_codes):
    """The call form's schema; the community and category choices depend on the caller."""
    return Schema.from_dict({
        "caller_phone": fields.String(required=True, validate=check_phone,
                                      error_messages={"required": "请填写来电号码"}),
        "caller_name": fields.String(validate=validate.Length(max=64, error="姓名不超过 64 个字"),
                                     load_default=None),
        "community": fields.String(required=True, validate=_one_of(community_codes, "请选择辖区内的社区"),
                                   error_messages={"required": "请选择社区"}),
        "address": fields.String(validate=validate.Length(max=200, error="地址不超过 200 个字"),
                                 load_default=None),
        "description": fields.String(required=True, error_messages={"required": "请填写诉求内容"},
                                     validate=validate.Length(max=4000, error="诉求内容不超过 4000 字")),
        "category": fields.String(validate=_one_of(category_codes, "请选择列表中的分类"), load_default=None),
        "priority": fields.String(validate=_one_of([p.value for p in Priority], "请选择列表中的紧急程度"),
                                  load_default=None),
    }, name="PhoneCallIn")()


def cleaned(form):
    """The form's own fields, trimmed; spaces inside the phone number are dropped."""
    values = {name: (form.get(name) or "").strip() for name in FIELDS}
    values["caller_phone"] = re.sub(r"\s+", "", values["caller_phone"])
    return values


def read_call(form, communities, categories):
    """The call as a NewTicket on the PHONE channel; raises ValidationError with messages per field."""
    values = {k: v for k, v in cleaned(form).items() if v}
    if len(communities) == 1:
        values.setdefault("community", communities[0].code)
    by_community = {c.code: c for c in communities}
    by_category = {c.code: c for c in categories}
    data = _schema(by_community, by_category).load(values, unknown=EXCLUDE)
    return NewTicket(description=data["description"], community=by_community[data["community"]],
                     channel=Channel.PHONE, category=by_category.get(data["category"]),
                     priority=Priority(data["priority"]) if data["priority"] else None,
                     address=data["address"], resident_phone=data["caller_phone"],
                     resident_name=data["caller_name"])
