"""The GeoReport v2 JSON schemas (open311/schema-validation, schema/georeport-v2), restated for jsonschema.

The published files set these constraints: required members, types (null allowed where they allow it), the
status, type and datatype enums, description ≤ 4,000 characters, and the date-time and uri formats. The
formats are checked here for real (jsonschema skips them unless a checker is installed).
"""
from datetime import datetime
from urllib.parse import urlparse

from jsonschema import Draft7Validator, FormatChecker


def _maybe(schema):
    return {"anyOf": [schema, {"type": "null"}]}


STRING, TIME = {"type": "string"}, {"type": "string", "format": "date-time"}

SERVICE = {
    "type": "object",
    "required": ["service_code", "service_name", "metadata", "type"],
    "properties": {
        "service_code": STRING, "service_name": STRING, "description": _maybe(STRING),
        "metadata": {"type": "boolean"}, "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
        "keywords": _maybe(STRING), "group": _maybe(STRING),
    },
}
SERVICES = {"type": "array", "items": SERVICE}

VALUE = {"type": "object", "required": ["key", "name"], "properties": {"key": STRING, "name": STRING}}
ATTRIBUTE = {
    "type": "object",
    "required": ["variable", "code", "datatype", "required"],
    "properties": {
        "variable": {"type": "boolean"}, "code": STRING,
        "datatype": {"type": "string", "enum": ["string", "number", "datetime", "text", "singlevaluelist",
                                                 "multivaluelist"]},
        "required": {"type": "boolean"}, "datatype_description": _maybe(STRING),
        "order": _maybe({"type": "integer"}), "description": _maybe(STRING),
        "values": {"type": "array", "items": VALUE},
    },
}
SERVICE_DEFINITION = {
    "type": "object", "required": ["service_code", "attributes"],
    "properties": {"service_code": STRING, "attributes": {"type": "array", "items": ATTRIBUTE}},
}

REQUEST = {
    "type": "object",
    "required": ["service_request_id", "status", "service_code", "requested_datetime"],
    "properties": {
        "service_request_id": STRING, "status": {"type": "string", "enum": ["open", "closed"]},
        "status_notes": _maybe(STRING), "service_name": _maybe(STRING), "service_code": STRING,
        "description": _maybe({"type": "string", "maxLength": 4000}), "agency_responsible": _maybe(STRING),
        "service_notice": _maybe(STRING), "requested_datetime": TIME, "updated_datetime": _maybe(TIME),
        "expected_datetime": _maybe(TIME), "address": _maybe(STRING), "address_id": _maybe(STRING),
        "zipcode": _maybe(STRING), "lat": _maybe({"type": "number"}), "long": _maybe({"type": "number"}),
        "media_url": _maybe({"type": "string", "format": "uri"}),
    },
}
REQUESTS = {"type": "array", "items": REQUEST}
# The swagger's RequestResponse and TokenResponse: POST requests and GET tokens answer lists of these.
CREATED = {"type": "array", "items": {"type": "object", "properties": {
    "service_request_id": STRING, "token": STRING, "service_notice": _maybe(STRING), "account_id": _maybe(STRING)}}}
ERRORS = {"type": "array", "minItems": 1, "items": {
    "type": "object", "required": ["code", "description"],
    "properties": {"code": {"type": "integer"}, "description": STRING}}}

CHECKER = FormatChecker(formats=())


@CHECKER.checks("date-time", raises=ValueError)
def _date_time(value):
    """RFC 3339: a full date and time with an offset (or Z). Formats apply to strings only."""
    if not isinstance(value, str):
        return True
    moment = datetime.fromisoformat(value)
    return "T" in value and moment.tzinfo is not None


@CHECKER.checks("uri", raises=ValueError)
def _uri(value):
    if not isinstance(value, str):
        return True
    parts = urlparse(value)
    return bool(parts.scheme and parts.netloc)


def errors_of(schema, instance):
    """Every way the instance breaks the schema, as readable lines (empty when it is valid)."""
    return [f"{list(e.path)}: {e.message}" for e in Draft7Validator(schema, format_checker=CHECKER).iter_errors(instance)]
