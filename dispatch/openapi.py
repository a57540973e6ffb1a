"""GET /api/v1/openapi.json, built from the marshmallow schemas the handlers really use."""
from flask import Blueprint
from marshmallow import fields

from dispatch.api.common import API_PREFIX
from dispatch.intake import calls
from dispatch.api.org_schemas import CommunityOut
from dispatch.api import schemas as ts

bp = Blueprint("openapi", __name__, url_prefix=API_PREFIX)

# Function fields carry no type of their own; these say what they return.
FUNCTION_TYPES = {
    "resident": {"type": "object", "properties": {"name": {"type": ["string", "null"]},
                                                  "phone": {"type": ["string", "null"]}}},
    "photos": {"type": "array", "items": {"type": "string"}},
    "allowed_actions": {"type": "array", "items": {"type": "string"}},
    "timeline": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
    "sla": {"type": "object", "description": "Both SLA clocks (null when the ticket has none).", "properties": {
        "policy_id": {"type": ["integer", "null"]}, "deadline_at": {"type": ["string", "null"]},
        "paused_at": {"type": ["string", "null"]}, "paused_seconds": {"type": "integer"},
        "error": {"type": ["string", "null"]},
        **{name: {"type": ["object", "null"], "properties": {
            "due_at": {"type": ["string", "null"]}, "working_time": {"type": "boolean"},
            "state": {"enum": ["running", "warning", "overdue", "paused", "met", "missed"]},
            "minutes_left": {"type": ["number", "null"]}}} for name in ("response", "resolution")}}},
}
SIMPLE = {fields.Integer: "integer", fields.Boolean: "boolean", fields.Float: "number", fields.Dict: "object"}


def field_schema(name, field):
    """JSON Schema for one marshmallow field."""
    if isinstance(field, fields.Nested):
        out = schema_object(field.schema)
    elif isinstance(field, fields.List):
        out = {"type": "array", "items": field_schema(name, field.inner)}
    elif isinstance(field, fields.Function) and name in FUNCTION_TYPES:
        return FUNCTION_TYPES[name]
    else:
        out = {"type": next((t for cls, t in SIMPLE.items() if isinstance(field, cls)), "string")}
    if getattr(field, "validators", None):
        for v in field.validators:
            out.update(_validator(v))
    if field.allow_none and "type" in out:
        out["type"] = [out["type"], "null"]
    if field.metadata.get("description"):
        out["description"] = field.metadata["description"]
    return out


def _validator(v):
    """The JSON Schema keywords of a marshmallow validator."""
    from marshmallow import validate
    if isinstance(v, validate.Length):
        return {k: val for k, val in (("minLength", v.min), ("maxLength", v.max)) if val is not None}
    if isinstance(v, validate.Range):
        return {k: val for k, val in (("minimum", v.min), ("maximum", v.max)) if val is not None}
    if isinstance(v, validate.OneOf):
        return {"enum": list(v.choices)}
    if isinstance(v, validate.Regexp):
        return {"pattern": v.regex.pattern}
    return {}


def schema_object(schema):
    """JSON Schema for a marshmallow schema (class or instance)."""
    schema = schema() if isinstance(schema, type) else schema
    props = {n: field_schema(n, f) for n, f in schema.fields.items() if not f.load_only}
    required = [n for n, f in schema.fields.items() if f.required]
    out = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name):
    return {"content": {"application/json": {"schema": _ref(name)}}}


ERRORS = {str(code): {"description": text, **_json("Error")} for code, text in (
    (400, "请求格式不正确"), (401, "缺少或无效的令牌"), (403, "无权执行"), (404, "不存在或不在权限范围内"),
    (409, "状态或版本冲突"), (413, "请求过大"), (415, "不是 JSON"), (422, "校验失败"))}


def _op(summary, ok, ok_schema, body=None, params=None):
    op = {"summary": summary, "responses": {ok: {"description": "成功", **_json(ok_schema)}, **ERRORS}}
    if body:
        op["requestBody"] = {"required": True, **_json(body)}
    if params:
        op["parameters"] = params
    return op


def _repeatable(op, schema):
    """An idempotent create: a repeat answers 200 with what the first call made."""
    op["responses"]["200"] = {"description": "已记录过（同一 call_id），返回同一工单", **_json(schema)}
    return op


def _query_params(schema):
    return [{"name": n, "in": "query", "required": False, "schema": field_schema(n, f)}
            for n, f in schema().fields.items()]


NUMBER = [{"name": "number", "in": "path", "required": True, "schema": {"type": "string"},
           "description": "工单编号，如 20261121-0042"}]


def document():
    """The whole OpenAPI 3.1 document."""
    ticket = "/tickets/{number}"
    return {
        "openapi": "3.1.0",
        "info": {"title": "dispatch 社区诉求工单 API", "version": "1.0.0"},
        "servers": [{"url": API_PREFIX}],
        "security": [{"bearer": []}],
        "paths": {
            "/tickets": {
                "get": _op("工单列表（筛选、分页）", "200", "Page", params=_query_params(ts.TicketListIn)),
                "post": _op("新建工单", "201", "TicketDetail", body="TicketCreate"),
            },
            ticket: {"get": _op("工单详情（含时间线）", "200", "TicketDetail", params=NUMBER)},
            ticket + "/accept": {"post": _op("受理", "200", "TicketDetail", body="Accept", params=NUMBER)},
            ticket + "/classify": {"post": _op("改分类/优先级", "200", "TicketDetail", body="Classify", params=NUMBER)},
            ticket + "/comments": {"post": _op("添加备注", "201", "TicketDetail", body="Comment", params=NUMBER)},
            ticket + "/callbacks": {"post": _op("记录回访（已办结或已关闭的工单）", "201", "TicketDetail",
                                                body="Callback", params=NUMBER)},
            ticket + "/transitions": {"post": _op("状态操作", "200", "TicketDetail", body="Transition",
                                                  params=NUMBER)},
            "/categories": {"get": _op("分类", "200", "CategoryList")},
            "/communities": {"get": _op("权限内的社区", "200", "CommunityList")},
            "/calls": {"post": _repeatable(_op("记录来电（一键拨号），开出待补充的电话工单",
                                               "201", "Call", body="CallCreate"), "Call")},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "TicketCreate": schema_object(ts.TicketCreateIn), "Accept": schema_object(ts.AcceptIn),
                "Classify": schema_object(ts.ClassifyIn), "Comment": schema_object(ts.CommentIn),
                "Callback": schema_object(ts.CallbackIn),
                "Transition": schema_object(ts.TransitionIn), "Ticket": schema_object(ts.TicketOut),
                "TicketDetail": schema_object(ts.TicketDetailOut), "Event": schema_object(ts.EventOut),
                "Page": schema_object(ts.PageOut),
                "CallCreate": schema_object(calls.CallIn), "Call": schema_object(calls.CallOut),
                "CategoryList": {"type": "object", "required": ["items"], "properties": {
                    "items": {"type": "array", "items": schema_object(ts.CategoryOut)}}},
                "CommunityList": {"type": "object", "required": ["items"], "properties": {
                    "items": {"type": "array", "items": schema_object(CommunityOut)}}},
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["code", "message", "fields"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                                   "fields": {"type": "object"}}}}},
            },
        },
    }


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI document of this API (no token needed to read it)."""
    return document()
