"""Console pages for SLA policies and the working calendar (admins)."""
from flask import Blueprint

bp = Blueprint("sla", __name__)
