"""GET /api/v1/openapi.json: apispec writes it from the API's routes and the marshmallow schemas they use."""
import re
from dataclasses import dataclass, field

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from apispec.ext.marshmallow.field_converter import DEFAULT_FIELD_MAPPING
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from apispec_webframeworks.flask import FlaskPlugin
from flask import Blueprint, current_app
from marshmallow import Schema, fields

from dispatch.api.common import API_PREFIX

bp = Blueprint("openapi", __name__, url_prefix=API_PREFIX)

PATH_PARAMETERS = {"number": "工单编号，如 20261121-0042"}
ERRORS = {400: "请求格式不正确", 401: "缺少或无效的令牌", 403: "无权执行", 404: "不存在或不在权限范围内",
          409: "状态或版本冲突", 413: "请求过大", 415: "不是 JSON", 422: "校验失败"}
RENAMED = {"CallIn": "CallCreate"}  # its answer, CallOut, is "Call"

ErrorDetail = Schema.from_dict({"code": fields.String(required=True), "message": fields.String(required=True),
                                "fields": fields.Dict(required=True)}, name="ErrorDetail")
ErrorBody = Schema.from_dict({"error": fields.Nested(ErrorDetail, required=True)}, name="Error")


def component_name(schema):
    """A schema's name in the document: its class name without the In or Out ending."""
    name = resolve_schema_cls(schema).__name__
    return RENAMED.get(name) or re.sub(r"(In|Out)$", "", name)


def listing(schema):
    """A schema for {"items": [schema, …]}, named after it (CategoryOut → CategoryList)."""
    return Schema.from_dict({"items": fields.List(fields.Nested(schema), required=True)},
                            name=component_name(schema) + "List")


@dataclass(frozen=True)
class Operation:
    """What a view does, takes and answers, as @documented says."""

    summary: str
    answer: type
    status: int = 200
    body: type | None = None
    query: type | None = None
    also: dict = field(default_factory=dict)

    def as_dict(self, rule):
        """This operation as apispec takes it; its path parameters are those of the view's route."""
        operation = {"summary": self.summary, "responses": self._responses()}
        parameters = [_path_parameter(name) for name in sorted(rule.arguments)]
        if self.query:
            parameters.append({"in": "query", "schema": self.query})
        if parameters:
            operation["parameters"] = parameters
        if self.body:
            operation["requestBody"] = {"required": True, **_json(self.body)}
        return operation

    def _responses(self):
        answers = {self.status: "成功", **self.also}
        return {**{code: {"description": text, **_json(self.answer)} for code, text in answers.items()},
                **{code: {"description": text, **_json(ErrorBody)} for code, text in ERRORS.items()}}


def documented(summary, answer, *, status=200, body=None, query=None, also=None):
    """Decorator: the view joins the document with this summary, answer (and status), body and query schemas."""
    def attach(view):
        view.openapi = Operation(summary, answer, status, body, query, also or {})
        return view
    return attach


def _json(schema):
    return {"content": {"application/json": {"schema": schema}}}


def _path_parameter(name):
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"},
            "description": PATH_PARAMETERS[name]}


class Converter(OpenAPIConverter):
    """apispec's field converter; a Function field is a string unless its metadata gives a type."""

    field_mapping = {**DEFAULT_FIELD_MAPPING, fields.Function: ("string", None)}


class Marshmallow(MarshmallowPlugin):
    """apispec's marshmallow plugin with our converter."""

    Converter = Converter


class ApiRoutes(FlaskPlugin):
    """apispec's Flask plugin, with paths relative to the API's server URL."""

    @staticmethod
    def flaskpath2openapi(path):
        """/api/v1/tickets/<number> → /tickets/{number}."""
        return FlaskPlugin.flaskpath2openapi(path).removeprefix(API_PREFIX)


def document(app):
    """The whole OpenAPI 3.1 document: every route whose view is @documented."""
    spec = APISpec(title="dispatch 社区诉求工单 API", version="1.0.0", openapi_version="3.1.0",
                   plugins=[ApiRoutes(), Marshmallow(schema_name_resolver=component_name)],
                   servers=[{"url": API_PREFIX}], security=[{"bearer": []}])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if isinstance(getattr(view, "openapi", None), Operation):
            methods = rule.methods - {"HEAD", "OPTIONS"}
            spec.path(view=view, app=app, operations={m.lower(): view.openapi.as_dict(rule) for m in methods})
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI document of this API (no token needed to read it), built once per app: routes are fixed."""
    if "openapi" not in current_app.extensions:
        current_app.extensions["openapi"] = document(current_app)
    return current_app.extensions["openapi"]
