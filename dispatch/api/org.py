"""The organisation's JSON API: the communities a caller may work in."""
from flask import Blueprint, g

from dispatch.api.common import API_PREFIX, authenticate_bearer
from dispatch.extensions import csrf
from dispatch.api.openapi import documented, listing
from dispatch.org.services import communities_in_scope
from dispatch.api.org_schemas import CommunityOut

bp = Blueprint("org_api", __name__, url_prefix=API_PREFIX)
csrf.exempt(bp)
bp.before_request(authenticate_bearer)


@bp.get("/communities")
@documented("权限内的社区", listing(CommunityOut))
def communities():
    """The communities in the caller's scope, with their streets."""
    return {"items": CommunityOut(many=True).dump(communities_in_scope(g.principal))}
