"""One place that turns errors into the API's JSON error body or the console's error pages."""
import logging

from flask import render_template, request
from flask_wtf.csrf import CSRFError
from marshmallow import ValidationError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
              415: "unsupported_media_type", 422: "validation_failed", 429: "too_many_requests",
              500: "internal_error"}

HTTP_MESSAGES = {
    400: "请求格式不正确", 401: "需要登录或有效的接口令牌", 403: "没有权限执行此操作",
    404: "找不到该资源", 405: "不支持该请求方法", 409: "操作与当前状态冲突",
    413: "请求内容过大", 415: "请求内容类型不受支持", 422: "提交的数据未通过校验",
    429: "请求过于频繁，请稍后再试", 500: "服务器内部错误，请稍后再试",
}

STALE_MESSAGE = "工单已被他人更新，请刷新后重试（版本已变化）"


class AppError(Exception):
    """An error a caller can act on, with its HTTP status and a Chinese message."""

    status = 400

    def __init__(self, message=None, fields=None, status=None):
        if status:
            self.status = status
        self.message = message or HTTP_MESSAGES[self.status]
        self.fields = fields or {}
        super().__init__(self.message)


class NotFound(AppError):
    """Missing, or outside the caller's scope: both look the same on purpose."""

    status = 404


class Conflict(AppError):
    """The request disagrees with the resource's current state or version."""

    status = 409


class Forbidden(AppError):
    """The caller may see the resource but not do this to it."""

    status = 403


class Invalid(AppError):
    """Well-formed input that fails validation."""

    status = 422


# (path prefix, render(status, message, fields)): a door with its own error format (Open311) registers here.
RENDERERS = []

# Exception class → status, for a package's own errors that are not AppErrors (the lifecycle's refusals):
# the package registers them when the app is built, so this module imports nothing above it.
ANSWERS = {}


def answer_with(exception_class, status):
    """Answer an exception of this class with this status and its own text as the message."""
    ANSWERS[exception_class] = status


def render_errors_under(prefix):
    """Register a function that renders the errors of every path under prefix (decorator)."""
    def register(render):
        RENDERERS.append((prefix, render))
        return render
    return register


def wants_json():
    """API paths always get JSON; everything else gets a page."""
    return request.path.startswith("/api/")


def error_response(status, message, fields=None):
    """Render one error as JSON (API), in a door's own format, or as a page (console)."""
    for prefix, render in RENDERERS:
        if request.path.startswith(prefix):
            return render(status, message, fields or {})
    code = HTTP_CODES.get(status, "error")
    if wants_json():
        return {"error": {"code": code, "message": message, "fields": fields or {}}}, status
    return render_template("error.html", status=status, message=message, fields=fields or {}), status


def _classify(exc):
    """Map an exception to (status, message, fields)."""
    if isinstance(exc, AppError):
        return exc.status, exc.message, exc.fields
    if isinstance(exc, ValidationError):
        fields = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return 422, HTTP_MESSAGES[422], fields
    for exception_class, status in ANSWERS.items():
        if isinstance(exc, exception_class):
            return status, str(exc), {}
    if isinstance(exc, StaleDataError):
        return 409, STALE_MESSAGE, {}
    if isinstance(exc, CSRFError):
        return 400, "表单已过期或缺少安全校验，请刷新页面后重新提交", {}
    if isinstance(exc, HTTPException):
        return exc.code, HTTP_MESSAGES.get(exc.code, exc.description), {}
    return None


def handle(exc):
    """Answer any exception; unknown ones are logged and become a 500 without internals."""
    from dispatch.extensions import db

    if isinstance(exc, HTTPException) and exc.code and exc.code < 400:
        return exc  # routing redirects (a missing trailing slash) are answers, not errors
    db.session.rollback()
    known = _classify(exc)
    if known is None:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, HTTP_MESSAGES[500])
    return error_response(*known)


def init_app(app):
    """Route every error through handle()."""
    app.register_error_handler(Exception, handle)
