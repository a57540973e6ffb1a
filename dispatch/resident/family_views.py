"""The H5 pages of family members (代办人), on the resident blueprint: the parent's 「我的家人」 page with the link
and its QR code, the child's confirmation, reporting for the parent; and the small hooks other pages use."""
from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from markupsafe import Markup

from dispatch.errors import AppError
from dispatch.extensions import db
from dispatch.intake.replies import response_promise
from dispatch.org.family import LINK_LIFETIME, MAX_LABEL, members_of
from dispatch.resident import family, services
from dispatch.resident.views import _report_form, bp
from dispatch.tickets.categories import active_categories
from dispatch.timeutil import now



def _link_key():
    return f"h5_family_link:{g.h5_code}"


def _join_url(token):
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(".family_join", token=token)


def _family_page(errors=None, values=None, status=200):
    """The parent's page: who is linked (with 取消), and a link to give a family member, with its QR code."""
    parent, token = g.resident, session.get(_link_key())
    waiting = family.waiting_link(parent, token, now()) if token else None
    url = _join_url(token) if waiting else None
    return render_template(
        "h5/family.html", members=members_of(parent.id), waiting=waiting, url=url,
        qr=family.qr_data_uri(url) if url else None, errors=errors or {}, values=values or {},
        max_label=MAX_LABEL, hours=int(LINK_LIFETIME.total_seconds() // 3600),
        parents=family.parents_of_resident(parent.id)), status


@bp.get("/family")
def family_home():
    known = family.last_label(g.resident)
    return _family_page(values={"label": known or g.resident.name or ""})


@bp.post("/family/link")
def family_link():
    """Make a new single-use link (the one made before stops being shown)."""
    label = request.form.get("label", "")
    try:
        _, token = family.make_link(g.resident, label, now())
    except AppError as exc:
        db.session.rollback()
        return _family_page({"label": exc.message}, {"label": label.strip()}, 400)
    session[_link_key()] = token
    return redirect(url_for(".family_home") + "#link")


@bp.post("/family/<int:link_id>/remove")
def family_remove(link_id):
    link = family.remove(g.resident, link_id, now())
    flash(f"已取消{link.member_label or '这位家人'}的代办。他（她）不能再替您报事、看您的工单，也不会再收到通知。",
          "success")
    return redirect(url_for(".family_home"))


def _join_page(token, errors=None, values=None, status=200):
    try:
        link = family.usable(token, g.resident, now())
    except AppError as exc:
        return render_template("h5/family_join.html", refusal=exc.message, link=None), exc.status
    return render_template("h5/family_join.html", refusal=None, link=link, token=token, errors=errors or {},
                           values=values or {}, max_label=MAX_LABEL), status


@bp.get("/family/join/<token>")
def family_join(token):
    """What the child sees on opening the link in their own WeChat: whose family member they would become."""
    return _join_page(token)


@bp.post("/family/join/<token>")
def family_confirm(token):
    label = request.form.get("label", "")
    try:
        link = family.confirm(token, g.resident, label, now())
    except family.LinkRefused:
        db.session.rollback()
        return _join_page(token)
    except AppError as exc:
        db.session.rollback()
        return _join_page(token, {"label": exc.message}, {"label": label.strip()}, 400)
    flash(f"好了！您现在可以替{link.parent_label}报事，也能看到{link.parent_label}的工单和办理进度。", "success")
    return redirect(url_for(".tickets"))


@bp.route("/family/<int:parent_id>/report", methods=["GET", "POST"])
def family_report(parent_id):
    """为家人报事: the parent's address and phone filled in; the ticket is the parent's, reported by the member."""
    link = family.link_for(g.resident, parent_id)
    parent, extra = link.parent, {"acting_for": link, "form_action": url_for(".family_report", parent_id=parent_id)}
    if request.method == "GET":
        community = parent.community
        return _report_form({"phone": parent.phone or "", "address": services.last_address(parent) or "",
                             "community": community.code if community else ""}, resident=parent, **extra)
    try:
        found = services.read_report(g.account, parent, request.form, request.files.getlist("photos"),
                                     active_categories())
        ticket, created = family.report_for(g.account, link, found, now())
    except services.ReportRefused as exc:
        return _report_form(exc.values, exc.errors, 400, resident=parent, **extra)
    except AppError as exc:
        return _report_form(services.form_values(request.form), {"community": exc.message}, 400, resident=parent,
                            **extra)
    message = ('已替{}提交！工单号 <span class="nowrap">{}</span>。{}' if created else
               '这个问题刚才已经替{}提交过了，工单号 <span class="nowrap">{}</span>，不用再提交。{}')
    flash(Markup(message).format(link.parent_label, ticket.number, response_promise(ticket, now())), "success")
    return redirect(url_for(".ticket", number=ticket.number))


@bp.context_processor
def _family_globals():
    """What the shared pages show of family: the parents one acts for, their tickets, whose ticket this is.

    The helpers hold the resident's id, not the row: a row kept alive by the template would outlive the request."""
    resident = getattr(g, "resident", None)
    if resident is None:
        return {}
    resident_id = resident.id
    return {"family_parents": lambda: family.parents_of_resident(resident_id),
            "family_tickets": lambda: family.parents_tickets(resident_id),
            "family_label": lambda ticket: family.family_label(resident_id, ticket)}
