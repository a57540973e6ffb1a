"""GET /healthz: is the app up and can it reach its database?"""
from flask import Blueprint
from sqlalchemy import text

from dispatch.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 with the database reachable, 503 with the reason when it is not."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database is the answer here, not an error
        db.session.rollback()
        return {"status": "error", "database": "unreachable", "detail": type(exc).__name__}, 503
    return {"status": "ok", "database": "ok"}
