"""Open311 services: jurisdictions, who may read what, the service catalogue and finding requests."""
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import or_, select, true
from sqlalchemy.orm import selectinload

from dispatch.errors import AppError, NotFound
from dispatch.extensions import db
from dispatch.open311 import catalog
from dispatch.open311.params import MAX_PAGE_SIZE, listed, positive, request_ids, statuses, window
from dispatch.org.models import Community, District, Street
from dispatch.org.services import principal_for_bearer
from dispatch.tickets.lifecycle import Status
from dispatch.tickets.models import Category, Channel, Ticket
from dispatch.tickets.scopes import visible
from dispatch.tickets.categories import active_categories

KEY_KIND = "open311"
# GeoReport knows only open and closed: a ticket is closed once the work is done (办结) or it will not be done.
CLOSED = {Status.RESOLVED, Status.CLOSED, Status.INVALID, Status.MERGED}
# What answering a request reads besides the ticket.
LOADS = (selectinload(Ticket.category), selectinload(Ticket.community), selectinload(Ticket.department),
         selectinload(Ticket.assignee), selectinload(Ticket.photos))


@dataclass(frozen=True)
class Jurisdiction:
    """The district, a street or a community, named by its code in jurisdiction_id."""

    kind: str
    code: str
    name: str
    id: int
    parent: str | None = None

    def clause(self):
        """The tickets inside it."""
        if self.kind == "community":
            return Ticket.community_id == self.id
        if self.kind == "street":
            return Ticket.community_id.in_(select(Community.id).where(Community.street_id == self.id))
        return true()

    def holds(self, community):
        """Is this community inside it?"""
        return (self.kind == "district" or (self.kind == "street" and community.street_id == self.id)
                or (self.kind == "community" and community.id == self.id))


def jurisdictions():
    """Every jurisdiction_id the endpoint answers for: the district, its streets, their communities."""
    found = [Jurisdiction("district", d.code, d.name, d.id) for d in db.session.scalars(select(District))]
    district = found[0].code if found else None
    streets = db.session.scalars(select(Street).order_by(Street.code)).all()
    by_id = {s.id: s.code for s in streets}
    found += [Jurisdiction("street", s.code, s.name, s.id, district) for s in streets]
    communities = db.session.scalars(select(Community).order_by(Community.street_id, Community.code))
    found += [Jurisdiction("community", c.code, c.name, c.id, by_id.get(c.street_id)) for c in communities]
    return found


def jurisdiction(code):
    """The jurisdiction a jurisdiction_id names (None when not given); 404 when it names none."""
    if not code:
        return None
    for model, kind in ((Community, "community"), (Street, "street"), (District, "district")):
        row = db.session.scalar(select(model).where(model.code == code))
        if row is not None:
            return Jurisdiction(kind, row.code, row.name, row.id)
    raise NotFound(f"jurisdiction_id「{code}」不存在；可用的代码见 discovery 的 jurisdictions")


def caller(raw_key, required=False):
    """The principal of an api_key (None without one, unless required); a wrong or revoked key is a 403."""
    if not raw_key:
        if required:
            raise AppError("缺少 api_key：提交诉求需要社区或街道发放的 api_key", status=403)
        return None
    principal = principal_for_bearer(raw_key, KEY_KIND)
    if principal is None:
        raise AppError("api_key 无效或已被撤销", status=403)
    return principal


def readable(principal):
    """The tickets a reader may see: what OPEN311_PUBLIC_READ shows everyone, and a key's scope besides."""
    policy = current_app.config["OPEN311_PUBLIC_READ"]
    public = {"all": true(), "open311": Ticket.channel == Channel.OPEN311}.get(policy)
    if principal is not None:
        return visible(principal) if public is None else or_(visible(principal), public)
    if public is None:
        raise AppError("查询诉求需要 api_key", status=403)
    return public


def service_list():
    """Every active category as a GeoReport service."""
    return [_service(c) for c in active_categories()]


def _service(category):
    words = catalog.top_keywords(category.keywords)
    return {"service_code": category.code, "service_name": category.name,
            "description": f"{category.name}，例如：{'、'.join(words)}" if words else category.name,
            "metadata": bool(catalog.attributes_of(category.code)), "type": "realtime",
            "keywords": ",".join(words), "group": catalog.group_of(category.code)}


def service_category(code):
    """The active category behind a service_code; 404 when there is none."""
    category = db.session.scalar(select(Category).where(Category.code == code, Category.active))
    if category is None:
        raise NotFound(f"没有服务「{code}」；可用的 service_code 见 services")
    return category


def service_definition(code):
    """A service's questions as a GeoReport service definition (empty for a service without metadata)."""
    category = service_category(code)
    return {"service_code": category.code,
            "attributes": [_attribute(q, order) for order, q in enumerate(catalog.attributes_of(code), 1)]}


def _attribute(question, order):
    found = {"variable": question.variable, "code": question.code, "datatype": question.datatype,
             "required": question.required, "datatype_description": question.datatype_description,
             "order": order, "description": question.description}
    if question.values:
        found["values"] = [{"key": k, "name": n} for k, n in question.values]
    return found


def find_requests(principal, place, args, now):
    """The requests a GET requests asks for, newest first: by ids, or by service, status and time window."""
    query = select(Ticket).options(*LOADS).where(readable(principal))
    if place is not None:
        query = query.where(place.clause())
    ids = request_ids(args.get("service_request_id"))
    if ids:  # GeoReport: a list of ids overrides every other filter
        return db.session.scalars(query.where(Ticket.number.in_(ids)).order_by(Ticket.id.desc())).all()
    start, end = window(args, now)
    query = query.where(Ticket.created_at >= start, Ticket.created_at <= end)
    codes = listed(args.get("service_code"))
    if codes:
        query = query.where(Ticket.category_id.in_(select(Category.id).where(Category.code.in_(codes))))
    wanted = statuses(args.get("status"))
    if wanted and len(wanted) == 1:
        closed = Ticket.status.in_(CLOSED)
        query = query.where(closed if "closed" in wanted else ~closed)
    size = positive(args, "page_size", MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    page = positive(args, "page", 1)
    return db.session.scalars(query.order_by(Ticket.created_at.desc(), Ticket.id.desc())
                              .limit(size).offset((page - 1) * size)).all()


def find_request(principal, place, number):
    """One request the reader may see; 404 otherwise, as if it did not exist."""
    query = select(Ticket).options(*LOADS).where(Ticket.number == number, readable(principal))
    ticket = db.session.scalar(query.where(place.clause()) if place is not None else query)
    if ticket is None:
        raise NotFound(f"找不到诉求「{number}」")
    return ticket



def number_of(ticket_id):
    """A ticket's number (its service_request_id)."""
    return db.session.scalar(select(Ticket.number).where(Ticket.id == ticket_id))
