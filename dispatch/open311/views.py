"""GeoReport v2 endpoints under /open311/v2: thin handlers that read arguments, call services, render."""
from flask import Blueprint, current_app, request, send_file

from dispatch.errors import NotFound, render_errors_under
from dispatch.extensions import csrf, db
from dispatch.open311 import representation, services, submissions
from dispatch.open311.formats import FORMATS, NOT_XML, render
from dispatch.open311.params import bad, field_lines
from dispatch.org.principal import mask_email, sees_contacts_of
from dispatch.storage import storage
from dispatch.tickets.models import Channel, TicketPhoto
from dispatch.console.tickets import door_facts
from dispatch.timeutil import now
from dispatch.urls import base_url

bp = Blueprint("open311", __name__, url_prefix="/open311")
csrf.exempt(bp)  # api_key, not cookies: there is no session to ride on
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-21T00:00:00+08:00"  # when the endpoints last changed in a way clients should know


def _check_format(fmt):
    """Only the two formats GeoReport speaks."""
    if fmt not in FORMATS:
        raise bad(f"不支持的格式「{fmt}」：请用 .json 或 .xml")


def _rendered(fmt, root, body, status=200):
    """A Flask answer: the body in that format, with its content type."""
    text, content_type = render(fmt, root, body)
    return text, status, {"Content-Type": content_type}


def _answer(fmt, root, body):
    """Render a body in the format the path asked for."""
    _check_format(fmt)
    return _rendered(fmt, root, body)


@render_errors_under("/open311/")
def errors(status, message, fields):
    """GeoReport's errors: a list of {code, description}; 403 and 404 as they are, any other mistake a 400."""
    status = status if status in (403, 404) or status >= 500 else 400
    fmt = "json" if request.path.endswith(".json") else "xml"
    described = field_lines(fields) or [message]
    return _rendered(fmt, "errors", [{"code": status, "description": d} for d in described], status)


@bp.before_request
def check_arguments():
    """A form is small (it is stored as sent); arguments with control characters (NUL…) are refused: the
    database and XML cannot carry them."""
    request.max_content_length = current_app.config["MAX_JSON_BYTES"]
    for name, value in [*request.values.items(multi=True), *(request.view_args or {}).items()]:
        if not name:  # a multipart part without a name
            raise bad("表单中有没有名称的字段，请检查 Content-Disposition 的 name")
        if NOT_XML.search(name) or NOT_XML.search(str(value)):
            raise bad(f"参数「{NOT_XML.sub('', name)[:40]}」含有控制字符，请删除后重试")


def _place():
    return services.jurisdiction(request.values.get("jurisdiction_id", "").strip())


def _caller(required=False):
    """The api_key's principal when one is given (403 if it is wrong, or missing where required); else None."""
    return services.caller(request.values.get("api_key", "").strip(), required)


@bp.get("/discovery.<fmt>")
@bp.get("/v2/discovery.<fmt>")
def discovery(fmt):
    """Where the endpoint is, what it speaks, and the jurisdiction codes it answers for."""
    config = current_app.config
    body = {
        "changeset": CHANGESET,
        "contact": config.get("OPEN311_CONTACT") or "请联系区社区服务联盟管理员",
        "key_service": config.get("OPEN311_KEY_SERVICE") or "api_key 由区或街道管理员用 flask open311 create-key 发放",
        "endpoints": [{"specification": SPECIFICATION, "url": base_url() + "/open311/v2",
                       "changeset": CHANGESET, "type": config["OPEN311_ENDPOINT_TYPE"],
                       "formats": ["text/xml", "application/json"]}],
        "jurisdictions": [{"jurisdiction_id": j.code, "name": j.name, "type": j.kind, "parent": j.parent}
                          for j in services.jurisdictions()],
    }
    return _answer(fmt, "discovery", body)


@bp.get("/v2/services.<fmt>")
def services_list(fmt):
    """The services (categories) a request may be filed under."""
    _place()
    return _answer(fmt, "services", services.service_list())


@bp.get("/v2/services/<code>.<fmt>")
def service_definition(code, fmt):
    """A service's questions (attribute[code] in a POST)."""
    _place()
    return _answer(fmt, "service_definition", services.service_definition(code))


@bp.post("/v2/requests.<fmt>")
def create_request(fmt):
    """Open a request: store it, then make it an ordinary ticket; answer its id (or a token if that must wait)."""
    _check_format(fmt)  # before anything is stored
    principal = _caller(required=True)
    submission = submissions.receive(principal, request.values, now())
    ticket = submissions.process(principal, submission)
    if ticket is None:
        body = {"token": submission.token, "service_notice": "已收到，正在登记，请稍后用 token 查询编号"}
    else:
        body = {"service_request_id": ticket.number, "service_notice": representation.service_notice(ticket)}
    account = submission.sent("account_id")
    if account:  # echoed when given; left out rather than null, which the swagger's RequestResponse refuses
        body["account_id"] = account
    return _answer(fmt, "service_requests", [body])


@bp.get("/v2/requests.<fmt>")
def list_requests(fmt):
    """Requests by id, or by service, status and time (90 days at most), newest first; page and page_size too."""
    tickets = services.find_requests(_caller(), _place(), request.args, now())
    return _answer(fmt, "service_requests", representation.views_of(tickets))


@bp.get("/v2/requests/<number>.<fmt>")
def get_request(number, fmt):
    """One request, as a list of one (as GeoReport answers it)."""
    ticket = services.find_request(_caller(), _place(), number)
    return _answer(fmt, "service_requests", representation.views_of([ticket]))


@bp.get("/v2/tokens/<token>.<fmt>")
def get_token(token, fmt):
    """The request id a token stands for, once the request is registered."""
    services.readable(_caller())  # where reading needs a key, so does this
    submission = submissions.by_token(token)
    body = {"token": submission.token}
    if submission.ticket_id:
        number = services.number_of(submission.ticket_id)
        body = {"service_request_id": number, "token": submission.token}
    elif submission.status == "rejected":
        raise NotFound(f"token「{token}」的提交未被受理：{submission.error}")
    elif submission.status == "abandoned":
        raise NotFound(f"token「{token}」的提交因系统故障未能登记，请重新提交")
    return _answer(fmt, "service_requests", [body])


@bp.get("/v2/media/<path:key>")
def media(key):
    """A request's photo, by the signed link in its media_url (until the link expires)."""
    if not representation.signature_matches(key, request.args.get("exp"), request.args.get("sig")):
        raise NotFound("找不到该文件，或链接已过期：请重新查询该诉求获取新链接")
    photo = db.session.scalar(db.select(TicketPhoto).where(TicketPhoto.stored_as(key)))
    path = storage(current_app).path(key) if photo is not None else None
    if path is None:
        raise NotFound("找不到该文件")
    response = send_file(path, mimetype=photo.content_type_of(key), max_age=3600)
    response.cache_control.public, response.cache_control.private = False, True  # not for shared caches
    return response


@door_facts
def _console_facts(principal, ticket):
    """On the console's ticket page: which key sent it, and the contacts and links the client gave."""
    submission = submissions.of_ticket(ticket) if ticket.channel is Channel.OPEN311 else None
    if submission is None:
        return []
    email = submission.email
    if email and not sees_contacts_of(principal, ticket.community_id):
        email = mask_email(email)
    rows = [("Open311 来源", submissions.key_name(submission)), ("反映人", submissions.reporter_name(submission)),
            ("电子邮箱", email),
            ("客户端账号", submission.account_id), ("设备编号", submission.device_id),
            ("地址编号", submission.address_id), ("图片链接", submission.media_url)]
    return [(label, text) for label, text in rows if text]
