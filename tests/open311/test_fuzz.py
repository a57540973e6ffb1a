"""Fuzzing the Open311 door (hypothesis): whatever comes in, the answer is a 200 or a GeoReport error.

The promise checked on every answer: the status is 200, 400, 403 or 404 (never a 5xx, and never 405/413/415: the
door maps those to 400; the one redirect let through is werkzeug's for a path with '//', see MERGED_SLASHES); an
error body is a GeoReport error list, as JSON valid against ERRORS
when the path ends in .json and as <errors><error><code/><description/></error></errors> otherwise, each code
being the status; a 200 is valid against the endpoint's schema (REQUESTS, CREATED, …) or parses as XML with the
expected root. A POST answered with a token instead of an id must not hide a failure: its submission is not
'failed' (on a healthy database that status only comes from an exception the door did not expect).

The examples share one database per test (the door's data accumulate), so nothing here counts rows.
"""
import json
import logging
import re
import traceback
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from io import BytesIO
from types import SimpleNamespace
from urllib.parse import quote, unquote, urlencode, urlsplit
from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from dispatch.extensions import db
from dispatch.open311.models import Open311Submission
from dispatch.org.models import ApiToken
from dispatch.sla import policies
from dispatch.tickets.category_seed import CATEGORY_SEED
from tests.open311.conftest import BASE
from tests.open311.georeport_schemas import CREATED, ERRORS, REQUESTS, SERVICE_DEFINITION, SERVICES, errors_of

ALLOWED = {200, 400, 403, 404}
# The one answer outside ALLOWED that is let through: a path with an empty segment (media//x, v2//requests.json)
# is redirected (308) by werkzeug's merge_slashes to the same path with the slashes merged, which errors.handle
# passes on as an answer. The redirect's target is then answered within the promise.
MERGED_SLASHES = re.compile("/{2,}")
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])

# ---- the real names the door knows ----

CODES = [spec["code"] for spec in CATEGORY_SEED]
JURISDICTIONS = ["370202", "zhanshan", "zhuhailu", "yanchenglu", "fuzhoulu", "xiangganghuayuan"]
KEY_SCOPES = {"community": "community:yanchenglu", "other_community": "community:xiangganghuayuan",
              "street": "street:zhanshan", "district": "district"}
PARAMS = ("service_request_id", "service_code", "status", "start_date", "end_date", "page", "page_size",
          "jurisdiction_id", "api_key")
ATTRIBUTE_CODES = ["floor", "building_unit", "someone_home", "visit_time", "light_kind", "problem", "lives_alone",
                   "gas_safety", "emergency"]
ATTRIBUTE_VALUES = ["yes", "no", "stairwell", "street", "yard", "garbage", "clutter", "sewage", "smell", "pests",
                    "3", "-1", "0", "2.5", "1e3", "3号楼2单元", "2026-11-22T09:00:00+08:00", "2026-11-22"]
ADDRESSES = ["盐城路8号", "福州路3号楼", "香港花园12号", "湛山路1号", "长江路"]


@dataclass(frozen=True)
class Real:
    """A value the fixture knows only at run time: an api_key, a ticket number or a token (resolved per test)."""

    kind: str
    name: str


# ---- strategies: values ----

ANY_TEXT = st.text(max_size=40)  # every code point hypothesis draws: controls, astral planes, combining marks
PRINTABLE = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=60)
DIGITS = st.from_regex(r"\A[0-9]{1,25}\Z") | st.integers(-10**12, 10**12).map(str)
ODD_NUMBERS = st.sampled_from([
    "0", "-0", "+1", "1.0", "1e3", "1e309", "-1e309", "nan", "NaN", "inf", "-Infinity", "1_000", "0x10", "²",
    "١٠", "１２", " 3 ", "3.", ".5", "999999999", "1000000000", "1001", "1000", "00001", "", " "])
LONG = st.builds(lambda chunk, n: chunk * n, st.sampled_from(["x", "路", "😀", "a,", "1", "&<>\"'", "%", "é"]),
                 st.integers(100, 6000))


def _offset(minutes):
    return timezone(timedelta(minutes=minutes))


OFFSETS = st.none() | st.integers(-1439, 1439).map(_offset)
TIMESPECS = st.sampled_from(["auto", "hours", "minutes", "seconds", "milliseconds", "microseconds"])
WHEN_NEAR = st.datetimes(min_value=datetime(2026, 6, 1), max_value=datetime(2027, 3, 1), timezones=OFFSETS)
WHEN_ANY = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=OFFSETS)
ISOISH = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.dates(min_value=date(2026, 6, 1), max_value=date(2027, 3, 1)).map(date.isoformat),
    st.tuples(WHEN_NEAR | WHEN_ANY, TIMESPECS, st.sampled_from("T t")).map(
        lambda t: t[0].isoformat(sep=t[2], timespec=t[1])),
    st.from_regex(r"\A[0-9]{1,5}-?[0-9]{1,2}-?[0-9]{1,2}([T ][0-9]{2}(:?[0-9]{2}(:?[0-9]{2}([.,][0-9]{1,9})?)?)?)?"
                  r"(Z|z|[+-][0-9]{2}(:?[0-9]{2}(:?[0-9]{2})?)?)?\Z"),
    st.sampled_from(["2026-11-20T10:00:00+08:00", "2026-11-20T10:00:00Z", "2026-11-20", "20261120", "2026-W47-5",
                     "2026-W47", "2026-324", "2026-11-20 10:00", "2026-11-20T24:00:00", "2026-02-30",
                     "2026-11-20T10:00:00+24:00", "2026-11-20T10:00:00-23:59", "1970-01-01", "2200-12-31T23:59:59",
                     "1969-12-31T23:59:59-12:00", "2201-01-01", "0001-01-01", "9999-12-31T23:59:59.999999+00:00",
                     "２０２６-１１-２０", "2026-11-20T10:00:00.1234567", "now", "yesterday", ""]),
)
NEAR_DATES = st.one_of(st.dates(min_value=date(2026, 8, 1), max_value=date(2026, 12, 31)).map(date.isoformat),
                      st.tuples(WHEN_NEAR, TIMESPECS).map(lambda t: t[0].isoformat(timespec=t[1])))
SMALL = st.integers(1, 5).map(str)


def mostly(usual, other):
    """Three draws in four from usual, the rest from other."""
    return st.integers(0, 3).flatmap(lambda i: other if i == 0 else usual)


# (start_date, end_date): mostly a plausible window around the frozen clock (some just over 90 days), or anything.
WINDOWS = st.one_of(
    st.tuples(st.dates(min_value=date(2026, 8, 1), max_value=date(2026, 12, 31)), st.integers(-3, 95)).map(
        lambda t: (t[0].isoformat(), (t[0] + timedelta(days=t[1])).isoformat())),
    st.tuples(WHEN_NEAR, st.integers(-3 * 86400, 95 * 86400), TIMESPECS).map(
        lambda t: (t[0].isoformat(timespec=t[2]), (t[0] + timedelta(seconds=t[1])).isoformat(timespec=t[2]))),
    st.tuples(NEAR_DATES | ISOISH, NEAR_DATES | ISOISH | st.none()))

TEXTS = st.one_of(ANY_TEXT, PRINTABLE, DIGITS, ODD_NUMBERS, ISOISH, LONG,
                  st.lists(PRINTABLE | DIGITS | st.just(""), max_size=6).map(",".join))


def real(kind, names):
    return st.sampled_from([Real(kind, name) for name in names])


KEYS = real("key", KEY_SCOPES) | st.sampled_from(["o311_", "o311_wrong", "dsp_wrong", " "]) | \
    st.builds(lambda s: "o311_" + s, PRINTABLE) | TEXTS
NUMBERS = real("number", ["0", "1", "2"])
TOKENS = real("token", ["processed", "rejected", "failed"])


def lists_of(values):
    """A comma-separated list (resolved and joined in the test) of some values and any text."""
    return st.lists(values | TEXTS, min_size=1, max_size=5)


VALUES_FOR = {
    "service_request_id": NUMBERS | lists_of(NUMBERS | DIGITS) | TEXTS,
    "service_code": st.sampled_from(CODES) | lists_of(st.sampled_from(CODES)) | TEXTS,
    "status": st.sampled_from(["open", "closed", "open,closed", " open , closed ", "OPEN", "open,,", ",", "pending",
                               "open,open"]) | TEXTS,
    "start_date": ISOISH, "end_date": ISOISH,
    "page": DIGITS | ODD_NUMBERS, "page_size": DIGITS | ODD_NUMBERS,
    "jurisdiction_id": st.sampled_from(JURISDICTIONS) | TEXTS,
    "api_key": KEYS,
}


def _named(name):
    return st.tuples(st.just(name), VALUES_FOR[name] | TEXTS)


QUERY_PAIRS = st.lists(st.one_of(*[_named(name) for name in PARAMS], st.tuples(ANY_TEXT | PRINTABLE, TEXTS)),
                       max_size=8)
RAW_QUERY = st.lists(st.sampled_from(list("abcxyz019=&%+;#?/ .é路\x00")) | st.sampled_from(
    [f"{name}=" for name in PARAMS] + ["%zz", "%e8%b7", "%00", "%ff", "&&", "=="]), max_size=30).map("".join)
FORMATS = st.sampled_from(["json", "xml"])
ANY_FORMAT = FORMATS | st.sampled_from(["JSON", "Xml", "json ", "csv", "", "json.xml", "xml.json", "%", "."]) | \
    ANY_TEXT
SEGMENTS = st.one_of(ANY_TEXT, PRINTABLE, DIGITS, LONG,
                     st.sampled_from([".", "..", "...", "%", "%00", "%2F", "a.b", "a/b", "/", "?", "#", " ", "~",
                                      "requests", "20261120-0001", "lighting.json", "<x>", "&amp;", "'--"]),
                     st.text(st.sampled_from("./%?#;:@&=+$,é路😀\\"), min_size=1, max_size=8))


# ---- strategies: POST forms ----

FLOATISH = st.one_of(st.floats(-100, 200).map(str), st.floats().map(repr), st.integers(-400, 400).map(str),
                     ODD_NUMBERS, TEXTS)
MEDIA_URLS = st.one_of(
    st.sampled_from(["http://example.com/a.jpg", "https://x", "http://", "https://", "ftp://x.org/a", "http://[",
                     "http://[::1]/a.jpg", "http://[::1", "http://]", "http://a:99999/", "http://a:port/",
                     "javascript:alert(1)", "HTTP://EXAMPLE.COM", "http://例子.中国/图.jpg", "//example.com/a",
                     "http://user:pw@host/", "https://" + "a" * 495]),
    st.builds(lambda scheme, host, path: f"{scheme}://{host}/{path}", st.sampled_from(["http", "https", "HTTPS"]),
              PRINTABLE, PRINTABLE),
    TEXTS)
FORM_VALUES = {
    "service_code": st.sampled_from(CODES) | TEXTS,
    "lat": FLOATISH, "long": FLOATISH,
    "address_string": st.sampled_from(ADDRESSES) | TEXTS,
    "address_id": TEXTS,
    "description": st.one_of(TEXTS, st.text(max_size=400), st.builds(lambda s, n: (s * n)[:5000], PRINTABLE.filter(
        bool), st.integers(1, 5000)), st.sampled_from(["楼道灯坏了", "漏水", "着火了，快来人", "垃圾没人清运"])),
    "email": st.emails() | st.sampled_from(["a@b", "a@b.c", "@", "x" * 250 + "@a.co", "张三@例子.中国"]) | TEXTS,
    "phone": st.from_regex(r"\A\+?[0-9][0-9-]{2,40}[0-9]\Z") | st.sampled_from(["13800138000", "0532-83880001"]) |
    TEXTS,
    "media_url": MEDIA_URLS,
    "first_name": TEXTS | st.text(st.characters(codec="ascii", categories=("L",)), min_size=28, max_size=34) |
    st.sampled_from(["三", "Zhang"]),
    "last_name": TEXTS | st.text(st.characters(codec="ascii", categories=("L",)), min_size=28, max_size=34) |
    st.sampled_from(["张", "San"]),
    "jurisdiction_id": st.sampled_from(JURISDICTIONS) | TEXTS,
    "account_id": TEXTS, "device_id": TEXTS,
    "api_key": KEYS,
}
ATTRIBUTE_KEYS = st.tuples(st.sampled_from(ATTRIBUTE_CODES) | ANY_TEXT | PRINTABLE, st.sampled_from(["", "[]", "[x]"])
                           ).map(lambda t: f"attribute[{t[0]}]{t[1]}") | st.sampled_from(
    ["attribute[]", "attribute[[floor]]", "attribute[floor", "attribute", "attribute[floor][][]"])
FORM_PAIRS = st.one_of(
    *[st.tuples(st.just(name), values) for name, values in FORM_VALUES.items()],
    st.tuples(ATTRIBUTE_KEYS, st.sampled_from(ATTRIBUTE_VALUES) | ISOISH | ODD_NUMBERS | TEXTS),
    st.tuples(ANY_TEXT | PRINTABLE, TEXTS),
)
# Often a plausible base (a real service, an address its key can place, the answers it requires), so that
# tickets are really opened and every field's checks and storage are reached.
REQUIRED_ANSWERS = {"water_power": [("attribute[someone_home]", "yes")], "gas_heating": [("attribute[someone_home]",
                    "no")], "appliance": [("attribute[someone_home]", "yes")], "sanitation": [("attribute[problem][]",
                                                                                              "garbage")]}
BASES = st.tuples(st.sampled_from(CODES), st.sampled_from(ADDRESSES[:1] + ["盐城路22号3单元"])).map(
    lambda t: [("service_code", t[0]), ("address_string", t[1]), *REQUIRED_ANSWERS.get(t[0], [])])
FORMS = st.tuples(st.just([]) | BASES, st.lists(FORM_PAIRS, max_size=10)).map(lambda t: t[0] + t[1])
# Plausible: some of the optional fields, each drawn from its own values, in front of a plausible base (the
# first value of a name is the one read), and a few attribute answers.
OPTIONAL = st.fixed_dictionaries({}, optional={name: values for name, values in FORM_VALUES.items()
                                               if name not in ("service_code", "api_key", "jurisdiction_id")})
PLAUSIBLE = st.tuples(OPTIONAL, st.lists(st.tuples(ATTRIBUTE_KEYS, st.sampled_from(ATTRIBUTE_VALUES) | ISOISH |
                                                  ODD_NUMBERS | TEXTS), max_size=3), BASES).map(
    lambda t: [*t[0].items(), *t[1], *t[2]])
CONTENT_TYPES = st.one_of(st.sampled_from([
    None, "application/json", "text/plain", "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=latin-1", "application/x-www-form-urlencoded; charset=bogus",
    "multipart/form-data", "multipart/form-data; boundary=xyz", "multipart/form-data; boundary=", "multipart/mixed",
    "multipart/form-data; boundary=\"é\"", "text/xml", "application/xml", "application/octet-stream", "image/jpeg",
    "*/*", ";", "application/json; charset=utf-16", "multipart/form-data; boundary=b"]), PRINTABLE)


def _urlencoded(pairs):
    return urlencode([(name, value) for name, value in pairs if isinstance(value, str)]).encode()


def _multipart(boundary, pairs, file_bytes):
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode(
        "utf-8", "surrogatepass") for name, value in pairs if isinstance(value, str)]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="media"; filename="a.jpg"\r\n'
                 f"Content-Type: image/jpeg\r\n\r\n".encode() + file_bytes + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


# A part's header: with a name, without one (name missing, empty or broken by a newline), a file, or no disposition.
DISPOSITIONS = st.sampled_from(["Content-Disposition: form-data; " + rest for rest in [
    'name="service_code"', 'name="address_string"', 'name="attribute[floor]"', "", "name=", 'name=""', 'name="a\nb"',
    'name="x"; filename="a.jpg"', 'filename="a.jpg"', "name*=UTF-8''%E8%B7%AF"]] + [
    "Content-Disposition: attachment", "Content-Type: text/plain"])
RAW_PARTS = st.lists(st.tuples(DISPOSITIONS, st.sampled_from(["lighting", "盐城路8号", "3", ""]) | PRINTABLE),
                     min_size=1, max_size=4).map(lambda parts: "".join(
                         f"--b\r\n{header}\r\n\r\n{value}\r\n" for header, value in parts).encode() + b"--b--\r\n")
BODIES = st.one_of(
    st.binary(max_size=2000),
    st.builds(lambda value: json.dumps(value).encode(), st.recursive(
        st.none() | st.booleans() | st.floats(allow_nan=False) | TEXTS,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXTS, inner, max_size=4), max_leaves=12)),
    st.builds(lambda pairs: json.dumps(dict(p for p in pairs if isinstance(p[1], str))).encode(), FORMS),
    FORMS.map(_urlencoded),
    st.tuples(st.sampled_from(["xyz", "----b", "é"]), FORMS, st.binary(max_size=200)).map(lambda t: _multipart(*t)),
    st.text(max_size=300).map(lambda s: s.encode("utf-8")),
)
# (content type, body): anything under any type, or multipart parts under their own boundary.
PAYLOADS = st.one_of(
    st.tuples(CONTENT_TYPES, BODIES),
    st.tuples(st.just("multipart/form-data; boundary=b"), RAW_PARTS),
    st.tuples(st.sampled_from(["xyz", "----b", "é"]), FORMS, st.binary(max_size=200)).map(
        lambda t: (f"multipart/form-data; boundary={t[0]}", _multipart(*t))),
)


# ---- the world the examples run in ----

class World(SimpleNamespace):
    """keys, numbers and tokens by name, and resolve(value) for the Real values drawn."""

    def __repr__(self):  # short in hypothesis's "Failing test case" (the raw keys change every run anyway)
        return f"<world: tickets {sorted(self.numbers.values())}>"


@pytest.fixture
def world(client, org, key_for, clock):
    """SLA rules, an api_key per scope, three Open311 tickets and a processed, a rejected and a failed token."""
    policies.seed_defaults()
    keys = {kind: key_for(scope) for kind, scope in KEY_SCOPES.items()}
    forms = [{"service_code": "lighting", "address_string": "盐城路8号", "attribute[light_kind]": "stairwell",
              "attribute[floor]": "3", "description": "楼道灯坏了" * 800, "media_url": "http://example.com/a.jpg",
              "email": "a@example.com", "phone": "13800138000", "first_name": "三", "last_name": "张"},
             {"service_code": "sanitation", "lat": "36.06", "long": "120.38", "attribute[problem][]": "garbage",
              "address_id": "A-17"},
             {"service_code": "water_power", "address_string": "盐城路9号", "attribute[someone_home]": "yes",
              "attribute[visit_time]": "2026-11-22T09:00:00+08:00", "account_id": "acc-1"}]
    numbers, tokens = {}, {}
    for index, form in enumerate(forms):
        response = client.post(f"{BASE}/requests.json", data={**form, "api_key": keys["community"]})
        assert response.status_code == 200, response.get_data(as_text=True)
        numbers[str(index)] = response.get_json()[0]["service_request_id"]
    tokens["processed"] = db.session.scalar(select(Open311Submission.token).where(
        Open311Submission.status == "processed"))
    rejected = client.post(f"{BASE}/requests.json", data={"service_code": "no_such", "address_string": "盐城路8号",
                                                          "api_key": keys["community"]})
    assert rejected.status_code == 400
    tokens["rejected"] = db.session.scalar(select(Open311Submission.token).where(
        Open311Submission.status == "rejected"))
    key_id = db.session.scalar(select(ApiToken.id).where(ApiToken.kind == "open311"))
    db.session.add(Open311Submission(token="f" * 32, key_id=key_id, received_at=clock(), status="failed",
                                     attempts=1, params={}, error="RuntimeError: boom"))
    db.session.commit()
    tokens["failed"] = "f" * 32
    known = {"key": keys, "number": numbers, "token": tokens}

    def resolve(value):
        if isinstance(value, Real):
            return known[value.kind][value.name]
        if isinstance(value, list):
            return ",".join(resolve(item) for item in value)
        return value
    return World(keys=keys, numbers=numbers, tokens=tokens, resolve=resolve)


# ---- checking an answer ----

class Unexpected(logging.Handler):
    """The tracebacks errors.handle logs for the exceptions it does not know (the ones that become 500s)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.seen = []

    def emit(self, record):
        if record.exc_info:
            self.seen.append("".join(traceback.format_exception(*record.exc_info)))


@pytest.fixture(autouse=True)
def unexpected():
    """Collect the tracebacks behind 500s, so that a failing example shows where it broke."""
    handler, logger = Unexpected(), logging.getLogger("dispatch.errors")
    disabled, logger.disabled = logger.disabled, False  # alembic's fileConfig disables the loggers it finds
    logger.addHandler(handler)
    UNEXPECTED[:] = [handler]
    yield handler
    logger.removeHandler(handler)
    logger.disabled = disabled
    UNEXPECTED.clear()


UNEXPECTED = []


def _last_traceback():
    seen = UNEXPECTED[0].seen if UNEXPECTED else []
    return "\n" + seen[-1][-1500:] if seen else ""


def _shown(response):
    return f"{response.request.method} {response.request.url} → {response.status_code}: " \
           f"{response.get_data()[:600]!r}"


def check(response, schema=None, root=None):
    """The door's promise for one answer; returns the parsed body of a 200 (None for HEAD/OPTIONS)."""
    status, method = response.status_code, response.request.method
    if status == 308 and "//" in response.request.path:  # werkzeug merges slashes: see MERGED_SLASHES
        assert unquote(urlsplit(response.location).path) == MERGED_SLASHES.sub("/", response.request.path), \
            _shown(response)
        return None
    assert status in ALLOWED, _shown(response) + (_last_traceback() if status >= 500 else "")
    if method in ("HEAD", "OPTIONS"):
        return None
    if status != 200:
        return _check_error(response)
    if response.content_type.startswith("application/json"):
        body = json.loads(response.get_data())
        if schema is not None:
            assert errors_of(schema, body) == [], (errors_of(schema, body), _shown(response))
        return body
    assert response.content_type.startswith("text/xml"), _shown(response)
    tree = ElementTree.fromstring(response.get_data())
    if root is not None:
        assert tree.tag == root, _shown(response)
    return tree


def _check_error(response):
    """A GeoReport error list, JSON when the path ends in .json and XML otherwise, every code the status."""
    status, data = response.status_code, response.get_data()
    if response.request.path.endswith(".json"):
        assert response.content_type.startswith("application/json"), _shown(response)
        body = json.loads(data)
        assert errors_of(ERRORS, body) == [], _shown(response)
        assert all(item["code"] == status and item["description"].strip() for item in body), _shown(response)
        return body
    assert response.content_type.startswith("text/xml"), _shown(response)
    tree = ElementTree.fromstring(data)
    errors = tree.findall("error")
    assert tree.tag == "errors" and errors, _shown(response)
    for error in errors:
        assert [child.tag for child in error] == ["code", "description"], _shown(response)
        assert error.findtext("code") == str(status) and (error.findtext("description") or "").strip(), \
            _shown(response)
    return tree


def check_requests(response):
    """A GET requests answer: REQUESTS in JSON; <service_requests><request> with an id each in XML."""
    body = check(response, REQUESTS, "service_requests")
    if response.status_code == 200 and isinstance(body, ElementTree.Element):
        assert all(item.tag == "request" and item.findtext("service_request_id") for item in body), \
            _shown(response)
    return body


def check_created(response):
    """A POST or tokens answer: CREATED in JSON; a token alone must not hide a failed submission."""
    body = check(response, CREATED, "service_requests")
    if response.status_code != 200 or body is None:
        return None
    items = [{child.tag: child.text for child in item} for item in body] if isinstance(
        body, ElementTree.Element) else body
    assert len(items) == 1 and (items[0].get("service_request_id") or items[0].get("token")), _shown(response)
    return items[0]


def no_hidden_failure(response, item):
    """A POST answered with a token only: its submission was not kept as failed by an unexpected exception."""
    if item is None or item.get("service_request_id"):
        return
    submission = db.session.scalar(select(Open311Submission).where(Open311Submission.token == item["token"]))
    assert submission is not None and submission.status != "failed", \
        f"POST answered 200 with a token but the submission failed: {submission.error!r} — {_shown(response)}"


def _query(world, pairs):
    return urlencode([(name, world.resolve(value)) for name, value in pairs])


def _segment(text):
    return quote(text, safe="")


# ---- GET requests.{json,xml} ----

@FUZZ
@given(fmt=FORMATS, pairs=QUERY_PAIRS)
def test_fuzz_list_requests_query(client, world, fmt, pairs):
    """GET requests with any query built from the real parameter names (and others): a list or an error."""
    response = client.get(f"{BASE}/requests.{fmt}?{_query(world, pairs)}")
    body = check_requests(response)
    event(f"GET → {response.status_code}" + (f" ({'some' if len(body) else 'none'})" if response.status_code == 200
                                            else ""))


@settings(FUZZ, max_examples=60)
@given(fmt=FORMATS, raw=RAW_QUERY)
def test_fuzz_list_requests_raw_query_string(client, world, fmt, raw):
    """GET requests with a raw query string (bad %-escapes, NUL, '#', repeated names): never a 500."""
    check_requests(client.get(f"{BASE}/requests.{fmt}?{raw}"))


@settings(FUZZ, max_examples=60)
@given(fmt=FORMATS, window=WINDOWS, status=mostly(st.sampled_from(["open", "closed", "open,closed", ""]),
                                                  VALUES_FOR["status"]),
       page=mostly(SMALL, DIGITS | ODD_NUMBERS), size=mostly(SMALL, DIGITS | ODD_NUMBERS),
       key=real("key", KEY_SCOPES) | st.none())
def test_fuzz_list_requests_window_and_paging(client, world, fmt, window, status, page, size, key):
    """The time window, status and paging together, with and without a real key."""
    start, end = window
    pairs = [("start_date", start), ("status", status), ("page", page), ("page_size", size)]
    pairs += [("end_date", end)] if end is not None else []
    pairs += [("api_key", key)] if key is not None else []
    response = client.get(f"{BASE}/requests.{fmt}?{_query(world, pairs)}")
    body = check_requests(response)
    event(f"GET → {response.status_code}" + (f" ({'some' if len(body) else 'none'})" if response.status_code == 200
                                            else ""))


# ---- GET requests/<id>, services/<code>, tokens/<token>, discovery, services, media ----

@FUZZ
@given(segment=SEGMENTS | NUMBERS, fmt=ANY_FORMAT, pairs=st.lists(st.one_of(
    _named("api_key"), _named("jurisdiction_id")), max_size=2))
def test_fuzz_one_request_path(client, world, segment, fmt, pairs):
    """GET requests/<id>.<fmt> with any id and format."""
    number = world.resolve(segment)
    response = client.get(f"{BASE}/requests/{_segment(number)}.{_segment(fmt)}?{_query(world, pairs)}")
    body = check_requests(response)
    if response.status_code == 200 and isinstance(body, list):
        assert [item["service_request_id"] for item in body] == [number], _shown(response)


@FUZZ
@given(code=SEGMENTS | st.sampled_from(CODES), fmt=ANY_FORMAT, pairs=st.lists(_named("jurisdiction_id"), max_size=1))
def test_fuzz_service_definition_path(client, world, code, fmt, pairs):
    """GET services/<code>.<fmt> with any code and format."""
    response = client.get(f"{BASE}/services/{_segment(code)}.{_segment(fmt)}?{_query(world, pairs)}")
    check(response, SERVICE_DEFINITION, "service_definition")


@FUZZ
@given(token=SEGMENTS | TOKENS | st.from_regex(r"\A[0-9a-f]{32}\Z"), fmt=ANY_FORMAT)
def test_fuzz_token_path(client, world, token, fmt):
    """GET tokens/<token>.<fmt> with any token and format (processed, rejected and failed ones too)."""
    check_created(client.get(f"{BASE}/tokens/{_segment(world.resolve(token))}.{_segment(fmt)}"))


@settings(FUZZ, max_examples=60)
@given(fmt=ANY_FORMAT, prefix=st.sampled_from(["/open311/v2", "/open311"]), pairs=QUERY_PAIRS,
       what=st.sampled_from(["discovery", "services"]))
def test_fuzz_discovery_and_services(client, world, fmt, prefix, pairs, what):
    """discovery.<fmt> and services.<fmt> (with any jurisdiction_id and other arguments)."""
    response = client.get(f"{prefix}/{what}.{_segment(fmt)}?{_query(world, pairs)}")
    check(response, SERVICES if what == "services" else None, what if response.status_code == 200 else None)


@settings(FUZZ, max_examples=60)
@given(parts=st.lists(SEGMENTS, min_size=1, max_size=3), sig=TEXTS)
def test_fuzz_media_path(client, world, parts, sig):
    """GET media/<key> with any key (slashes too) and signature: a 404 (or a 400), never a file nor a 500."""
    response = client.get(f"{BASE}/media/{'/'.join(map(_segment, parts))}?{urlencode({'sig': sig})}")
    check(response)
    assert response.status_code != 200, _shown(response)


@settings(FUZZ, max_examples=60)
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "PROPFIND",
                               "FOO"]),
       path=st.sampled_from(["requests.json", "requests.xml", "requests/{n}.json", "requests/{n}.xml",
                             "services.json", "services/lighting.xml", "tokens/{t}.json", "discovery.xml",
                             "media/x.jpg", "nothing", "requests", "", "requests.json/", "requests.json.json"]),
       fmt_key=st.booleans())
def test_fuzz_methods(client, world, method, path, fmt_key):
    """Any method on any path: 405s and unknown methods are 400s in the path's format."""
    url = f"{BASE}/{path.format(n=world.numbers['0'], t=world.tokens['processed'])}"
    response = client.open(url, method=method, query_string={"api_key": world.keys["community"]} if fmt_key else None)
    check(response)


# ---- POST requests.{json,xml} ----

def _post_and_read_back(client, world, response, fmt, key):
    """Check a POST answer; when a ticket was opened, read it back by id in both formats."""
    item = check_created(response)
    event(f"POST → {response.status_code} {'id' if item and item.get('service_request_id') else ''}"
          f"{'token' if item and not item.get('service_request_id') else ''}")
    no_hidden_failure(response, item)
    if item and item.get("service_request_id"):
        number = item["service_request_id"]
        for read_fmt in ("json", "xml"):
            back = client.get(f"{BASE}/requests/{quote(number, safe='')}.{read_fmt}", query_string={"api_key": key})
            assert back.status_code == 200, _shown(back)
            check_requests(back)


@settings(FUZZ, max_examples=150)
@given(fmt=FORMATS, key=real("key", KEY_SCOPES), form=FORMS, key_in_query=st.booleans(),
       multipart=st.booleans())
def test_fuzz_post_form(client, world, fmt, key, form, key_in_query, multipart):
    """POST requests with a valid key and any form: an id (read back valid), a token that hides nothing, or an
    error."""
    raw_key = world.resolve(key)
    data = MultiDict([("api_key", raw_key)] if not key_in_query else [])
    for name, value in form:
        data.add(name, world.resolve(value))
    if multipart:
        data.add("media", (BytesIO(b"\xff\xd8\xff\xe0 not really a jpeg"), "图.jpg"))
    url = f"{BASE}/requests.{fmt}" + (f"?api_key={raw_key}" if key_in_query else "")
    response = client.post(url, data=data)
    _post_and_read_back(client, world, response, fmt, raw_key)


@settings(FUZZ, max_examples=150)
@given(fmt=FORMATS, key=real("key", KEY_SCOPES), form=PLAUSIBLE)
def test_fuzz_post_plausible_form(client, world, fmt, key, form):
    """POST requests with a real service and a placeable address, and any values for the other fields."""
    raw_key = world.resolve(key)
    response = client.post(f"{BASE}/requests.{fmt}", data=MultiDict([("api_key", raw_key), *form]))
    _post_and_read_back(client, world, response, fmt, raw_key)


@settings(FUZZ, max_examples=100)
@given(fmt=ANY_FORMAT, key=KEYS | st.none(), payload=PAYLOADS)
def test_fuzz_post_raw_body(client, world, fmt, key, payload):
    """POST requests.<fmt> with any key and any body under any content type."""
    raw_key, (content_type, body) = world.resolve(key), payload
    query = f"?{urlencode({'api_key': raw_key})}" if raw_key is not None else ""
    headers = {"Content-Type": content_type} if content_type is not None else {}
    response = client.post(f"{BASE}/requests.{_segment(fmt)}{query}", data=body, headers=headers)
    item = check_created(response)
    no_hidden_failure(response, item)


# ---- what werkzeug refuses before the door reads anything: 413s are 400s here ----

@pytest.mark.parametrize("make", [
    lambda: (b"description=" + b"x" * (16 * 1024 * 1024 + 1), "application/x-www-form-urlencoded"),
    lambda: (b"description=" + b"x" * 600_000, "application/x-www-form-urlencoded"),
    lambda: (_multipart("b", [(f"f{i}", "1") for i in range(1001)], b""), "multipart/form-data; boundary=b"),
], ids=["over MAX_CONTENT_LENGTH", "a field over the form memory limit", "over 1000 multipart parts"])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_oversized_posts_are_400(client, world, make, fmt):
    """A body werkzeug refuses as too large (413) is a GeoReport 400 in the path's format."""
    body, content_type = make()
    response = client.post(f"{BASE}/requests.{fmt}?api_key={world.keys['community']}", data=body,
                           headers={"Content-Type": content_type})
    check(response)
    assert response.status_code == 400, _shown(response)
