"""Phone intake (一键拨号) in the console: staff log a resident's call as a ticket."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from marshmallow import ValidationError

from dispatch.errors import Forbidden
from dispatch.intake import phone
from dispatch.org.auth import console_principal
from dispatch.org.services import communities_in_scope
from dispatch.tickets import categories as category_store, pipeline
from dispatch.tickets.lifecycle import MANAGERS
from dispatch.tickets.models import Priority

bp = Blueprint("intake", __name__)


def _intake_principal():
    """Only district, street and community staff take calls."""
    principal = console_principal()
    if principal.role not in MANAGERS:
        raise Forbidden("只有区、街道和社区工作人员可以登记来电")
    return principal


def _phone_form(communities, categories, values=None, errors=None):
    """The call form, empty or with what was typed and the messages per field."""
    return render_template("intake/phone.html", communities=communities, categories=categories,
                           priorities=list(Priority), values=values or {}, errors=errors or {})


@bp.route("/phone", methods=["GET", "POST"])
@login_required
def phone_intake():
    """Log a resident's phone call (一键拨号) as a ticket."""
    principal = _intake_principal()
    communities, categories = communities_in_scope(principal), category_store.active_categories()
    if request.method == "GET":
        return _phone_form(communities, categories)
    try:
        data = phone.read_call(request.form, communities, categories)
    except ValidationError as exc:
        flash("登记未完成，请按提示修改后再提交", "error")
        return _phone_form(communities, categories, phone.cleaned(request.form), exc.messages), 422
    ticket = pipeline.open_ticket(principal, data)
    flash(f"已创建工单 {ticket.number}", "success")
    return redirect(url_for("tickets.detail", number=ticket.number))


@bp.get("/phone/suggest")
@login_required
def phone_suggest():
    """The classifier's category and priority for the description typed so far (JSON)."""
    text = (request.args.get("text") or "").strip()[:4000]
    if not text:
        return {"category": None, "category_name": None, "priority": None, "priority_label": None,
                "urgent_terms": [], "matched": []}
    categories = category_store.active_categories()
    found = category_store.suggest(text)
    names = {c.code: c.name for c in categories}
    return {"category": found.category_code, "category_name": names.get(found.category_code),
            "priority": found.priority, "priority_label": Priority(found.priority).label,
            "urgent_terms": list(found.urgent_terms), "matched": list(found.matched)}
