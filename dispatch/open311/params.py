"""Reading what a GeoReport client sends: query filters, the POST form and its attribute[code] answers.

Pure (no database): every problem becomes a 400 (`AppError`) whose message says what to send instead.
"""
import re
from dataclasses import dataclass
from urllib.parse import urlparse
from datetime import date, datetime, timedelta

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from dispatch.errors import AppError
from dispatch.org.principal import check_phone
from dispatch.timeutil import SHANGHAI, as_utc

MAX_SPAN = timedelta(days=90)  # GeoReport: a start_date/end_date window may not span more
MAX_PAGE_SIZE = 1000  # GeoReport's default limit: the first 1,000 requests
MAX_IDS = 200
ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
STATUSES = ("open", "closed")
FIRST_YEAR, LAST_YEAR = 1970, 2200
NOT_IN_URI = re.compile(r"[\s\"<>\\^`{|}]")
NUMBER = re.compile(r"^[+-]?[0-9]{1,9}(\.[0-9]{1,6})?$")  # a floor or a count: plain digits, no 1e308 or 1_000


def bad(message):
    """A 400 that tells the client what to change."""
    return AppError(message, status=400)


def field_lines(fields):
    """Messages per field ({field: [messages]}) as lines a person reads: "lat：lat 应在 -90 到 90 之间"."""
    return [f"{name}：{'，'.join(map(str, msgs)) if isinstance(msgs, list) else msgs}" for name, msgs in fields.items()]


def parse_time(text, name, day_end=False):
    """An ISO 8601 time as aware UTC: no offset means Asia/Shanghai; a date alone is its local midnight, or with
    day_end the midnight after it (so end_date=2026-11-20 includes that day)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise bad(f"{name} 应为 ISO 8601 时间，如 2026-11-01T00:00:00+08:00 或 2026-11-01T00:00:00Z") from None
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:  # also keeps the 90-day arithmetic inside datetime's range
        raise bad(f"{name} 的年份应在 {FIRST_YEAR} 到 {LAST_YEAR} 之间")
    if day_end and _is_date(text.strip()):
        moment += timedelta(days=1)
    return as_utc(moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI))


def _is_date(text):
    """Is this a date alone (2026-11-20, 20261120, 2026-W47-5), with no time of day?"""
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def listed(text):
    """A comma-separated list, blanks dropped, order and duplicates as given."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def window(args, now):
    """(start, end) of requested_datetime: at most 90 days; by default the 90 days up to now."""
    start = parse_time(args["start_date"], "start_date") if args.get("start_date") else None
    end = parse_time(args["end_date"], "end_date", day_end=True) if args.get("end_date") else None
    if start and end and start > end:
        raise bad("start_date 不能晚于 end_date")
    if start and end and end - start > MAX_SPAN:
        raise bad("start_date 与 end_date 相隔不能超过 90 天")
    if start is None:
        start = (end or now) - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    return start, end


def statuses(text):
    """The status filter: open, closed or both (comma-separated); None when not given."""
    wanted = listed(text)
    wrong = [s for s in wanted if s not in STATUSES]
    if wrong:
        raise bad(f"status 只能是 open 或 closed（可用逗号分隔），收到：{', '.join(wrong)}")
    return set(wanted) or None


def request_ids(text):
    """The service_request_id list (at most MAX_IDS)."""
    ids = listed(text)
    if len(ids) > MAX_IDS:
        raise bad(f"service_request_id 一次最多 {MAX_IDS} 个")
    return ids


def positive(args, name, default, ceiling=None):
    """A page or page_size: a whole number from 1 (to ceiling)."""
    text = args.get(name)
    if text in (None, ""):
        return default
    value = int(text) if re.fullmatch(r"[0-9]{1,9}", text) else 0
    if value < 1 or (ceiling and value > ceiling):
        raise bad(f"{name} 应为不小于 1 的整数" + (f"，最大 {ceiling}" if ceiling else ""))
    return value


def _http_url(value):
    """A link readers may follow: http or https, a host, and nothing that is not allowed in a URI."""
    try:
        parts = urlparse(value)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed [ of an IPv6 address
        host = None
    if not host or parts.scheme.lower() not in ("http", "https") or NOT_IN_URI.search(value):
        raise ValidationError("只接受 http:// 或 https:// 开头、带主机名、不含空格和引号的链接")


def _text(maximum, required=False, **kw):
    """A string field of at most `maximum` characters, with a Chinese message."""
    return fields.String(required=required, validate=[validate.Length(max=maximum, error=f"不超过 {maximum} 个字符"),
                                                      *kw.pop("also", ())], **kw)


NUMERIC = {"invalid": "应为数字", "special": "应为数字（不接受 nan 或 inf）", "too_large": "数字过大"}


class RequestForm(Schema):
    """POST requests: GeoReport's arguments (attribute[code] answers are read apart, by `answers`)."""

    class Meta:
        unknown = EXCLUDE

    service_code = _text(32, required=True, error_messages={"required": "缺少 service_code（服务代码，见 services）"})
    jurisdiction_id = _text(32)
    lat = fields.Float(validate=validate.Range(-90, 90, error="lat 应在 -90 到 90 之间"), error_messages=NUMERIC)
    long = fields.Float(validate=validate.Range(-180, 180, error="long 应在 -180 到 180 之间"), error_messages=NUMERIC)
    address_string = _text(200)
    address_id = _text(64)
    email = fields.Email(validate=validate.Length(max=254, error="不超过 254 个字符"),
                         error_messages={"invalid": "不是有效的电子邮件地址"})
    device_id = _text(64)
    account_id = _text(64)
    first_name = _text(30)  # with last_name and a space, within a resident's name (64)
    last_name = _text(30)
    phone = _text(32, also=(check_phone,))
    description = _text(4000)
    media_url = _text(500, also=(_http_url,))

    @validates_schema
    def _has_location(self, data, **kwargs):
        """GeoReport: a location is lat and long together, or address_string, or address_id."""
        if ("lat" in data) != ("long" in data):
            raise ValidationError("lat 和 long 需要一起提供", "lat")
        if not ({"lat", "address_string", "address_id"} & set(data)):
            raise ValidationError("需要位置：lat 和 long，或 address_string，或 address_id", "address_string")


FORM = RequestForm()


def request_form(form):
    """The POST form's arguments, checked; blanks count as not sent. Raises ValidationError."""
    return FORM.load({k: v.strip() for k, v in form.items() if v.strip() and not ATTRIBUTE_KEY.match(k)})


@dataclass(frozen=True)
class Answers:
    """The checked attribute answers: stored values, and a line for people to read."""

    values: dict
    text: str


def answers(form, questions):
    """Check attribute[code] (and attribute[code][]) against a service's questions."""
    given = {}
    for key in form:
        match = ATTRIBUTE_KEY.match(key)
        if match:
            values = [v.strip() for v in form.getlist(key) if v.strip()]
            given.setdefault(match.group(1), []).extend(values)
    asked = {q.code: q for q in questions if q.variable}
    unknown = sorted(set(given) - asked.keys() - {q.code for q in questions})
    if unknown:
        offered = "、".join(asked) or "无"
        raise bad(f"此服务没有这些字段：{', '.join(unknown)}（可用：{offered}）")
    values, parts = {}, []
    for code, question in asked.items():
        answer = _answer(question, given.get(code, []))
        if answer is not None:
            values[code] = answer
            parts.append(f"{question.label}：{_shown(question, answer)}")
    return Answers(values, "；".join(parts))


def _answer(question, values):
    """One question's checked answer, or None when not answered (400 if it had to be)."""
    name = f"attribute[{question.code}]"
    if not values:
        if question.required:
            raise bad(f"缺少 {name}（{question.description}）")
        return None
    if question.datatype == "multivaluelist":
        wrong = [v for v in values if v not in question.names()]
        if wrong:
            raise bad(f"{name} 只能取 {', '.join(question.names())}，收到：{', '.join(wrong)}")
        return list(dict.fromkeys(values))
    if len(values) > 1:
        raise bad(f"{name} 只能有一个值")
    return _scalar(question, name, values[0])


def _scalar(question, name, value):
    """A single value of a question, by its datatype."""
    if question.datatype == "singlevaluelist" and value not in question.names():
        raise bad(f"{name} 只能取 {', '.join(question.names())}，收到：{value}")
    if question.datatype == "number":
        if not NUMBER.match(value):
            raise bad(f"{name} 应为数字，如 3 或 -1")
        number = float(value)
        return int(number) if number.is_integer() else number
    if question.datatype == "datetime":
        return parse_time(value, name).isoformat()
    limit = 2000 if question.datatype == "text" else 200
    if len(value) > limit:
        raise bad(f"{name} 不超过 {limit} 个字符")
    return value


def _shown(question, answer):
    """An answer as people read it: list keys by their names, times in local time."""
    if question.datatype in ("singlevaluelist", "multivaluelist"):
        keys = answer if isinstance(answer, list) else [answer]
        return "、".join(question.names()[k] for k in keys)
    if question.datatype == "datetime":
        return datetime.fromisoformat(answer).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    return str(answer)
