"""What every JSON API blueprint shares: bearer-token authentication and strict JSON bodies."""
from flask import current_app, g, request

from dispatch.errors import AppError
from dispatch.org.services import principal_for_bearer

API_PREFIX = "/api/v1"


def authenticate_bearer():
    """before_request: every API call names a live token; the caller becomes g.principal."""
    request.max_content_length = current_app.config["MAX_JSON_BYTES"]
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    principal = principal_for_bearer(raw.strip()) if scheme.lower() == "bearer" else None
    if principal is None:
        raise AppError("缺少或无效的接口令牌：请在 Authorization 头中使用 Bearer <令牌>", status=401)
    g.principal = principal


def json_body():
    """The request's JSON object, or a 415/400 that says what is wrong with it."""
    if not request.is_json:
        raise AppError("请求体应为 JSON，并设置 Content-Type: application/json", status=415)
    body = request.get_json(silent=True)
    if body is None:
        raise AppError("请求体不是有效的 JSON", status=400)
    if not isinstance(body, dict):
        raise AppError("请求体应为 JSON 对象（{...}）", status=400)
    return body
