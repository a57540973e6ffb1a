"""The tickets JSON API: thin handlers that parse, call a service, and serialise."""
from flask import Blueprint, g, request, url_for
from marshmallow.experimental.context import Context

from dispatch.api.common import API_PREFIX, authenticate_bearer, json_body
from dispatch.extensions import csrf
from dispatch.api.openapi import documented, listing
from dispatch.org.services import requested_community
from dispatch.tickets import callbacks, pipeline, queries, services
from dispatch.tickets.categories import active_categories, category_named
from dispatch.tickets.store import NewTicket
from dispatch.tickets.models import Channel, Priority
from dispatch.api.schemas import (AcceptIn, CallbackIn, CategoryOut, ClassifyIn, CommentIn, PageOut,
                                      TicketCreateIn, TicketDetailOut, TicketListIn, TransitionIn)
from dispatch.timeutil import now

bp = Blueprint("tickets_api", __name__, url_prefix=API_PREFIX)
csrf.exempt(bp)  # bearer tokens, not cookies: there is no cross-site request to forge
bp.before_request(authenticate_bearer)

# Schemas are stateless; building one per request deep-copies its fields, so build each once.
CREATE_IN, LIST_IN, ACCEPT_IN, CLASSIFY_IN, COMMENT_IN, TRANSITION_IN, CALLBACK_IN = (
    TicketCreateIn(), TicketListIn(), AcceptIn(), ClassifyIn(), CommentIn(), TransitionIn(), CallbackIn())
DETAIL_OUT, PAGE_OUT, CATEGORIES_OUT = TicketDetailOut(), PageOut(), CategoryOut(many=True)


def _detail(ticket, status=200):
    """Serialise a ticket for the caller, with its version as the ETag."""
    with Context({"principal": g.principal}):
        body = DETAIL_OUT.dump(ticket)
    return body, status, {"ETag": f'"{ticket.version}"'}


@bp.get("/tickets")
@documented("工单列表（筛选、分页）", PageOut, query=TicketListIn)
def list_tickets():
    """List the caller's tickets with filters, newest first, paginated."""
    args = LIST_IN.load(request.args.to_dict())
    page, per_page = args.pop("page"), args.pop("per_page")
    result = queries.list_tickets(g.principal, args, now(), page, per_page)
    return PAGE_OUT.dump(result)


@bp.post("/tickets")
@documented("新建工单", TicketDetailOut, status=201, body=TicketCreateIn)
def create_ticket():
    """Open a ticket; without a category the classifier suggests one."""
    data = CREATE_IN.load(json_body())
    resident = data["resident"] or {}
    ticket = pipeline.open_ticket(g.principal, NewTicket(
        description=data["description"], community=requested_community(g.principal, data["community"]),
        channel=Channel(data["channel"]), category=category_named(data["category"]),
        priority=Priority(data["priority"]) if data["priority"] else None, address=data["address"],
        resident_phone=resident.get("phone"), resident_name=resident.get("name")))
    body, status, headers = _detail(ticket, 201)
    headers["Location"] = url_for(".get_ticket", number=ticket.number)
    return body, status, headers


@bp.get("/tickets/<number>")
@documented("工单详情（含时间线）", TicketDetailOut)
def get_ticket(number):
    """One ticket with its timeline."""
    return _detail(services.get_visible(g.principal, number))


@bp.post("/tickets/<number>/accept")
@documented("受理", TicketDetailOut, body=AcceptIn)
def accept(number):
    """Accept (受理) a new ticket."""
    ticket = services.get_visible(g.principal, number)
    data = ACCEPT_IN.load(json_body())
    return _detail(pipeline.act(g.principal, ticket, "accept", **data))


@bp.post("/tickets/<number>/classify")
@documented("改分类/优先级", TicketDetailOut, body=ClassifyIn)
def classify(number):
    """Override the category and/or priority."""
    ticket = services.get_visible(g.principal, number)
    data = CLASSIFY_IN.load(json_body())
    priority = Priority(data["priority"]) if data["priority"] else None
    return _detail(pipeline.act(g.principal, ticket, "classify", note=data["note"], version=data["version"],
                                category=category_named(data["category"]), priority=priority))


@bp.post("/tickets/<number>/comments")
@documented("添加备注", TicketDetailOut, status=201, body=CommentIn)
def add_comment(number):
    """Add a note to the timeline."""
    ticket = services.get_visible(g.principal, number)
    data = COMMENT_IN.load(json_body())
    return _detail(pipeline.act(g.principal, ticket, "comment", data["note"]), 201)


@bp.post("/tickets/<number>/callbacks")
@documented("记录回访（已办结或已关闭的工单）", TicketDetailOut, status=201, body=CallbackIn)
def call_back(number):
    """Record a call-back (回访); its satisfaction may become the rating and close the ticket."""
    ticket = services.get_visible(g.principal, number)
    data = CALLBACK_IN.load(json_body())
    callbacks.record_callback(g.principal, ticket, data["reached"], data["rating"], data["note"], now(),
                              version=data["version"])
    return _detail(ticket, 201)


@bp.post("/tickets/<number>/transitions")
@documented("状态操作", TicketDetailOut, body=TransitionIn)
def change_status(number):
    """Take any lifecycle action (dispatch, resolve, return, …)."""
    ticket = services.get_visible(g.principal, number)
    data = TRANSITION_IN.load(json_body())
    return _detail(pipeline.act(g.principal, ticket, data.pop("action"), **data))


@bp.get("/categories")
@documented("分类", listing(CategoryOut))
def categories():
    """The active categories, in display order."""
    return {"items": CATEGORIES_OUT.dump(active_categories())}
