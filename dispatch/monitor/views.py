"""Monitor pages: the district's and a street's overview, a director's view, tables, lists and exports."""
from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import login_required

from dispatch.errors import NotFound
from dispatch.extensions import db
from dispatch.monitor import awaiting, charts, metrics, services
from dispatch.monitor.counters import UNDER_A_TENTH
from dispatch.monitor.exports import csv_response, xlsx_response
from dispatch.monitor.models import MonitorMark
from dispatch.org.auth import console_principal
from dispatch.org.models import Community, Street
from dispatch.org.roles import COMMUNITY_ROLES, Role
from dispatch.tickets.lifecycle import SUPERVISORS
from dispatch.timeutil import local, now

bp = Blueprint("monitor", __name__, url_prefix="/monitor")
OVERDUE_SHOWN = 15
PAGE_SIZE = 50
EXPORTS = {"csv": csv_response, "xlsx": xlsx_response}


@bp.before_request
@login_required
def _staff_only():
    """Volunteers and departments have their desk; the monitor is for managers (scoped per request)."""
    services.scoped(console_principal(), {})


@bp.context_processor
def _links():
    """Templates build every link from the selection they show."""
    return {"link_args": services.link_args, "drill_url": services.drill_url,
            "default_period": services.DEFAULT_PERIOD, "hours_note": UNDER_A_TENTH,
            "median_samples": services.MEDIAN_SAMPLES}


def _today():
    return local(now()).date()


def _selection(place=None):
    return services.selection_of(console_principal(), request.args, _today(), place)


def _freshness():
    mark = db.session.get(MonitorMark, "facts")
    return local(mark.refreshed_at) if mark and mark.refreshed_at else None


def _export(table, fmt, names):
    """The table as a download; names: (the file's name, its ASCII stand-in), each with the period."""
    if fmt not in EXPORTS:
        raise NotFound("只能导出 csv 或 xlsx")
    filename, ascii_name = names
    return EXPORTS[fmt](table, filename, ascii_name)


@bp.get("/")
def home():
    """Each manager's own overview: the district's, their street's or their community's."""
    principal = console_principal()
    if principal.role is Role.STREET_SUPERVISOR:
        return redirect(url_for(".street", street_id=principal.street_id))
    if principal.role in COMMUNITY_ROLES:
        return redirect(url_for(".community", community_id=principal.community_id))
    return redirect(url_for(".district"))


@bp.get("/today")
def today():
    """What awaits a street supervisor (the district admin: the district) today, most urgent first."""
    principal = console_principal()
    if principal.role not in SUPERVISORS:  # who approves extensions and answers escalations
        return redirect(url_for("tickets.queue"))  # a community's day starts at its own queue
    at = now()
    found = awaiting.awaiting(principal, at, _today())
    place = services.street_name(awaiting.scope_selection(principal, _today())) or "全区"
    return render_template("monitor/today.html", awaiting=found, place=place, now=at, refreshed=_freshness())


def _overview(selection, by, template, **context):
    """An overview page: totals, the places side by side, trend lines, what is overdue."""
    at = now()
    rate = request.args.get("rate") if request.args.get("rate") in services.RATE_KEYS else "response_rate"
    grouped, total = metrics.figures_and_total(selection, by) if by else (None, metrics.figures(selection)[0])
    late = metrics.overdue_counts(selection, at, by="street" if by == "street" else "community")
    table = services.metrics_table(selection, by, at, request.args.get("rank") or rate, grouped, late) if by else None
    weekly = metrics.trend(selection, "week", 12, by)
    monthly = metrics.trend(selection, "month", 12, by)
    return render_template(
        template, selection=selection, by=by, table=table, total=services.metric_row(total), rate=rate,
        charts=charts.overview(table, weekly, monthly, rate, by), periods=services.PERIODS,
        overdue=[services.overdue_row(t, at) for t in metrics.overdue_tickets(selection, at, OVERDUE_SHOWN)],
        overdue_total=sum(late.values()),
        filters=services.described(selection), formulas=services.FORMULAS,
        rate_labels=services.rate_labels(), columns=services.METRIC_COLUMNS, measures=services.COLUMN_MEASURES,
        refreshed=_freshness(), now=at, args=request.args, groups=metrics.GROUP_LABELS, street_name=services.street_name(selection), **context)


@bp.get("/district")
def district():
    """The district's overview: streets side by side, ranked; trends; what is overdue."""
    selection = _selection({})
    if selection.street_id:  # a supervisor (or director) has no district view: their own is the nearest
        return redirect(url_for(".home"))
    return _overview(selection, "street", "monitor/overview.html", level="district")


@bp.get("/streets/<int:street_id>")
def street(street_id):
    """A street's overview: its communities side by side, ranked; trends; what is overdue."""
    if db.session.get(Street, street_id) is None:
        raise NotFound("找不到这个街道")
    selection = _selection({"street_id": street_id})
    return _overview(selection, "community", "monitor/overview.html", level="street")


@bp.get("/communities/<int:community_id>")
def community(community_id):
    """A community's view (the director's): its figures by category, volunteer, department, channel, state."""
    found = db.session.get(Community, community_id)
    if found is None:
        raise NotFound("找不到这个社区")
    selection = _selection({"community_id": found.id, "street_id": found.street_id})
    breakdowns = [(by, services.metrics_table(selection, by, now(), request.args.get("rank")))
                  for by in ("category", "volunteer", "department", "channel", "status")]
    return _overview(selection, None, "monitor/overview.html", level="community", breakdowns=breakdowns)


@bp.get("/table", defaults={"fmt": None})
@bp.get("/table.<fmt>")
def table(fmt):
    """Any grouping of any selection as a table; .csv and .xlsx export it with the filters applied."""
    selection = _selection()
    by = services.group_of(request.args, "community" if selection.street_id else "street")
    found = services.metrics_table(selection, by, now(), request.args.get("rank"))
    if fmt:
        return _export(found, fmt, services.export_names(selection, f"按{metrics.GROUP_LABELS[by]}统计", f"by_{by}"))
    return render_template("monitor/table.html", table=found, selection=selection, by=by, args=request.args,
                           columns=services.METRIC_COLUMNS, measures=services.COLUMN_MEASURES,
                           groups=metrics.GROUP_LABELS, formulas=services.FORMULAS, periods=services.PERIODS)


@bp.get("/tickets", defaults={"fmt": None})
@bp.get("/tickets.<fmt>")
def tickets(fmt):
    """The tickets behind a figure (a measure of a selection), so anyone can check it."""
    selection = _selection()
    measure = services.measure_of(request.args)
    page = max(1, services.whole_number(request.args.get("page")) or 1)
    if fmt:
        items, total = metrics.behind(selection, measure)
        what = "工单明细" if measure == "created" else f"工单明细_{metrics.MEASURE_LABELS[measure]}"
        return _export(services.tickets_table(selection, measure, items), fmt,
                       services.export_names(selection, what, "tickets" if measure == "created" else measure))
    items, total = metrics.behind(selection, measure, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return render_template("monitor/tickets.html", table=services.tickets_table(selection, measure, items),
                           total=total, page=page, pages=max(1, -(-total // PAGE_SIZE)), measure=measure,
                           measures=metrics.MEASURE_LABELS, selection=selection, args=request.args,
                           formulas=services.FORMULAS)


@bp.get("/overdue", defaults={"fmt": None})
@bp.get("/overdue.<fmt>")
def overdue(fmt):
    """Every ticket overdue now in a place, the longest overdue first."""
    selection = _selection()
    at = now()
    found = services.overdue_table(selection, metrics.overdue_tickets(selection, at), at)
    if fmt:
        return _export(found, fmt, services.export_names(selection, "当前超时工单", "overdue", as_of=local(at)))
    return render_template("monitor/overdue.html", table=found, selection=selection, args=request.args,
                           formulas=services.FORMULAS)


@bp.get("/streets/<int:street_id>/report.xlsx")
def monthly_report(street_id):
    """A street's monthly report: the three rates per community, by category, and what was overdue."""
    found = db.session.get(Street, street_id)
    if found is None:
        raise NotFound("找不到这个街道")
    services.scoped(console_principal(), {"street_id": street_id})
    (filename, ascii_name), tables = services.monthly_report(found, request.args.get("month"), _today(), now())
    return xlsx_response(tables, filename, ascii_name)
