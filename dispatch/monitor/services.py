"""What the monitor pages ask for, turned into selections; who may see what; figures turned into tables."""
import re
from datetime import date, timedelta

from flask import g, url_for
from sqlalchemy import select

from dispatch.errors import AppError, Forbidden, NotFound
from dispatch.extensions import db
from dispatch.monitor import metrics
from dispatch.monitor.exports import Table
from dispatch.monitor.facts import FORMULAS, RATE_LABELS
from dispatch.monitor.metrics import GROUP_LABELS, MEASURE_LABELS, Selection
from dispatch.org.models import Community, Department, District, Street, User
from dispatch.org.roles import COMMUNITY_ROLES, Role
from dispatch.tickets.lifecycle import STATUS_LABELS, Status
from dispatch.sla.display import amount_text
from dispatch.tickets.models import CHANNEL_LABELS, Category, Channel
from dispatch.timeutil import as_utc, local

MAX_DAYS = 732  # two years: longer periods belong to an export of two reports
PERIODS = {"30d": "近30天", "week": "本周", "month": "本月", "last_month": "上月", "quarter": "近三个月", "year": "今年"}
# A page without a period shows the last 30 days: "this month" shows two days on the 2nd of the month.
DEFAULT_PERIOD = "30d"
PERIOD_DAYS = 30
RATE_KEYS = ("response_rate", "resolution_rate", "satisfaction_rate", "on_time_resolution_rate", "reopen_rate")
METRIC_COLUMNS = [
    ("created", "工单数", "int"), ("valid", "有效工单", "int"),
    ("response_rate", "响应率", "percent"), ("resolution_rate", "解决率", "percent"),
    ("satisfaction_rate", "满意率", "percent"), ("on_time_resolution_rate", "按时办结率", "percent"),
    ("response_p50", "响应用时中位数", "hours"), ("response_p90", "响应用时90分位", "hours"),
    ("response_n", "响应用时件数", "int"),
    ("resolution_p50", "办结用时中位数", "hours"), ("resolution_p90", "办结用时90分位", "hours"),
    ("resolution_n", "办结用时件数", "int"),
    ("returned", "退单", "int"), ("extended", "延期申请", "int"), ("reopened", "重办", "int"),
]
# How many tickets each median is taken over: exports have their own column, pages show it beside the median.
MEDIAN_SAMPLES = {"response_p50": "response_n", "resolution_p50": "resolution_n"}
# Which measure (list of tickets) each column links to.
COLUMN_MEASURES = {"created": "created", "valid": "valid", "response_rate": "responded_on_time",
                   "resolution_rate": "resolved", "satisfaction_rate": "satisfied",
                   "on_time_resolution_rate": "resolved_on_time", "returned": "returned", "extended": "extended",
                   "reopened": "reopened"}


class BadRequest(AppError):
    """A query string a person can fix: 400 with what is wrong."""

    status = 400


# ---- the period ----

def _parse_day(text, name):
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise BadRequest(f"{name}「{text}」不是有效日期，请写成 2026-11-01 这样的格式") from None


def period_of(args, today):
    """The local dates start..end the page is about: from/to, a named period, or the last 30 days."""
    if args.get("from") or args.get("to"):
        end = _parse_day(args.get("to") or today.isoformat(), "结束日期")
        start = _parse_day(args["from"], "开始日期") if args.get("from") else end - timedelta(days=PERIOD_DAYS - 1)
        if start > end:
            raise BadRequest("开始日期不能晚于结束日期")
        if (end - start).days >= MAX_DAYS:
            raise BadRequest(f"统计期最长 {MAX_DAYS} 天，请缩短")
        return start, end
    return named_period(args.get("period") or DEFAULT_PERIOD, today)


def named_period(name, today):
    """本周, 本月, 上月, 近30天, 近三个月, 今年."""
    if name == "week":
        return today - timedelta(days=today.weekday()), today
    if name == "month":
        return today.replace(day=1), today
    if name == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if name == "30d":
        return today - timedelta(days=PERIOD_DAYS - 1), today
    if name == "quarter":
        return today - timedelta(days=89), today
    if name == "year":
        return today.replace(month=1, day=1), today
    raise BadRequest(f"统计期「{name}」不认识，可选：" + "、".join(f"{k}（{v}）" for k, v in PERIODS.items()))


# ---- the place and filters, within the caller's scope ----

def _row(model, row_id):
    """A street, community, category… by id, remembered for the request (pages ask for the same ones often)."""
    remembered = g.setdefault("monitor_rows", {})
    if (model, row_id) not in remembered:
        remembered[model, row_id] = db.session.get(model, row_id)
    return remembered[model, row_id]


def _by_code(model, code, what):
    row = db.session.scalar(select(model).where(model.code == code))
    if row is None:
        raise BadRequest(f"找不到{what}「{code}」")
    return row


def _choice(value, labels, what):
    if value in labels:
        return value
    raise BadRequest(f"{what}「{value}」不认识，可选：" + "、".join(f"{k}（{v}）" for k, v in labels.items()))


def whole_number(text):
    """A plain id or page number (ASCII digits, within an INTEGER column), or None."""
    return int(text) if re.fullmatch(r"[0-9]{1,9}", text or "") else None


def filters_of(args):
    """The optional filters of a query string, as Selection fields."""
    found = {}
    if args.get("category"):
        found["category_id"] = _by_code(Category, args["category"], "类别").id
    if args.get("department"):
        found["department_id"] = _by_code(Department, args["department"], "职能部门").id
    if args.get("channel"):
        found["channel"] = _choice(args["channel"], {c.value: c.label for c in Channel}, "渠道")
    if args.get("status"):
        found["status"] = _choice(args["status"], {s.value: s.label for s in Status}, "状态")
    if args.get("volunteer"):
        user_id = whole_number(args["volunteer"])
        if user_id is None or db.session.get(User, user_id) is None:
            raise BadRequest(f"找不到志愿者「{args['volunteer']}」")
        found["handler_user_id"] = user_id
    return found


def place_of(args):
    """The street and community a query string names (codes), as Selection fields."""
    found = {}
    if args.get("community"):
        community = _by_code(Community, args["community"], "社区")
        found.update(community_id=community.id, street_id=community.street_id)
    elif args.get("street"):
        found["street_id"] = _by_code(Street, args["street"], "街道").id
    return found


def scoped(principal, place):
    """The place a caller asked for, checked against (or narrowed to) what they may see."""
    role = principal.role
    if role is Role.DISTRICT_ADMIN:
        return place
    if role is Role.STREET_SUPERVISOR:
        if place.get("street_id", principal.street_id) != principal.street_id:
            raise NotFound("找不到这个街道或社区的统计")  # like tickets: out of scope looks missing
        return {**place, "street_id": principal.street_id}
    if role in COMMUNITY_ROLES:
        asks_wider = bool(place) and "community_id" not in place  # their street as a whole is not theirs
        if asks_wider or place.get("community_id", principal.community_id) != principal.community_id:
            raise NotFound("找不到这个街道或社区的统计")
        community = db.session.get(Community, principal.community_id)
        return {"community_id": community.id, "street_id": community.street_id}
    raise Forbidden("统计分析只对区、街道和社区的管理人员开放")


def selection_of(principal, args, today, place=None):
    """The Selection a monitor request means, within the caller's scope."""
    start, end = period_of(args, today)
    where = scoped(principal, place if place is not None else place_of(args))
    return Selection(start, end, **where, **filters_of(args))


def group_of(args, default):
    """The grouping a table asks for."""
    return _choice(args.get("by") or default, GROUP_LABELS, "分组")


def measure_of(args):
    """Which tickets behind a figure a list asks for."""
    return _choice(args.get("measure") or "created", MEASURE_LABELS, "统计口径")


# ---- describing a selection to people ----

def _place_row(selection):
    """The selection's community or street, or None for the whole district."""
    if selection.community_id:
        return _row(Community, selection.community_id)
    return _row(Street, selection.street_id) if selection.street_id else None


def place_name(selection):
    """区, 街道 or 社区 name of a selection."""
    place = _place_row(selection)
    return place.name if place else "全区"


def place_code(selection):
    """The code of a selection's community or street ("district" for the whole district), for ASCII names."""
    place = _place_row(selection)
    return place.code if place else "district"


def period_words(selection):
    """2026-11-02至2026-12-01."""
    return f"{selection.start:%Y-%m-%d}至{selection.end:%Y-%m-%d}"


def export_names(selection, what, ascii_what, as_of=None):
    """A download's name and its plain-ASCII stand-in, each carrying the place, what it holds and the period
    (or, for what stands now, the day): (市南区_工单明细_2026-11-02至2026-12-01, district_tickets_2026-11-02_2026-12-01)."""
    place = place_name(selection)
    if place == "全区":
        place = db.session.scalar(select(District.name).order_by(District.id).limit(1)) or place
    if as_of is not None:
        period, ascii_period = f"截至{as_of:%Y-%m-%d}", f"{as_of:%Y-%m-%d}"
    else:
        period, ascii_period = period_words(selection), f"{selection.start:%Y-%m-%d}_{selection.end:%Y-%m-%d}"
    return f"{place}_{what}_{period}", f"{place_code(selection)}_{ascii_what}_{ascii_period}"


def street_name(selection):
    """The name of the selection's street, if it has one."""
    return _row(Street, selection.street_id).name if selection.street_id else None


def described(selection):
    """The filters applied, as (label, value) pairs for pages and exports."""
    pairs = [("统计期", f"{selection.start:%Y-%m-%d} 至 {selection.end:%Y-%m-%d}（按创建日期）"),
             ("范围", place_name(selection))]
    names = {"category_id": ("类别", Category, "name"), "department_id": ("职能部门", Department, "name"),
             "handler_user_id": ("志愿者", User, "display_name")}
    for field, (label, model, attribute) in names.items():
        value = getattr(selection, field)
        if value is not None:
            pairs.append((label, getattr(_row(model, value), attribute)))
    if selection.channel:
        pairs.append(("渠道", CHANNEL_LABELS[Channel(selection.channel)]))
    if selection.status:
        pairs.append(("状态", STATUS_LABELS[Status(selection.status)]))
    return pairs


def formulas():
    """Every formula the figures follow, as sentences."""
    return list(FORMULAS.values())


# ---- tables ----

def metric_row(row, overdue=None):
    """One figures row as the flat dict tables and exports use."""
    flat = {"key": row.key, "label": row.label, **row.counts, **row.rates, **row.hours, **row.samples}
    if overdue is not None:
        flat["overdue"] = overdue.get(row.key, 0)
    return flat


def ranked(rows, rank):
    """Rows best first by a rate (ties by volume); rows without the rate last."""
    key = rank if rank in RATE_KEYS else "response_rate"
    reverse_bad = key == "reopen_rate"  # fewer reopenings is better
    return sorted(rows, key=lambda r: (r[key] is None, (r[key] or 0) * (1 if reverse_bad else -1),
                                       -r["valid"], str(r["label"])))


def metrics_table(selection, by, now, rank=None, figures=None, overdue=None):
    """The figures of a selection grouped by one dimension, as a Table (with 当前超时 per place)."""
    rows = [metric_row(r) for r in (figures if figures is not None else metrics.figures(selection, by))]
    columns = [("label", GROUP_LABELS[by], "text"), *METRIC_COLUMNS]
    if by in ("street", "community"):
        overdue = overdue if overdue is not None else metrics.overdue_counts(selection, now, by=by)
        for row in rows:
            row["overdue"] = overdue.get(row["key"], 0)
        columns.append(("overdue", "当前超时", "int"))
    title = f"{place_name(selection)} 按{GROUP_LABELS[by]}统计"
    return Table(title, columns, ranked(rows, rank), described(selection), formulas())


def total_row(selection):
    """The selection's figures in one row."""
    return metric_row(metrics.figures(selection)[0])


def tickets_table(selection, measure, items, title=None):
    """The tickets behind a figure, as a Table."""
    columns = [("number", "工单号", "text"), ("created_at", "创建时间", "datetime"), ("community", "社区", "text"),
               ("category", "类别", "text"), ("status", "状态", "text"), ("description", "内容", "text"),
               ("response_hours", "响应用时", "hours"), ("resolution_hours", "办结用时", "hours"),
               ("responded_on_time", "按时响应", "text"), ("resolved_on_time", "按时办结", "text"),
               ("rating", "评价", "text"), ("reopenings", "重办次数", "int"), ("returns", "退单次数", "int")]
    rows = [ticket_row(ticket, fact) for ticket, fact in items]
    return Table(title or f"{place_name(selection)} {MEASURE_LABELS[measure]}", columns, rows,
                 described(selection) + [("口径", MEASURE_LABELS[measure])], formulas())


RATING_LABELS = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}


def ticket_row(ticket, fact):
    """One ticket with its facts, flat."""
    yes_no = {True: "是", False: "否"}
    return {"number": ticket.number, "created_at": ticket.created_at, "community": ticket.community.name,
            "category": ticket.category.name if ticket.category else "未分类", "status": ticket.status.label,
            "description": ticket.description, "response_hours": fact.response_hours,
            "resolution_hours": fact.resolution_hours, "responded_on_time": yes_no[fact.responded_on_time],
            "resolved_on_time": yes_no[fact.resolved_on_time], "rating": RATING_LABELS.get(fact.rating, ""),
            "reopenings": fact.reopenings, "returns": fact.returns}


def overdue_table(selection, tickets, now):
    """Tickets overdue now, as a Table: the most urgent first, then the longest overdue (the order given)."""
    columns = [("number", "工单号", "text"), ("priority", "紧急程度", "text"), ("community", "社区", "text"),
               ("category", "类别", "text"), ("status", "状态", "text"), ("deadline", "时限", "datetime"),
               ("late", "已超时", "text"), ("late_hours", "已超时（小时）", "hours"), ("holder", "承办", "text"),
               ("description", "内容", "text")]
    rows = [overdue_row(t, now) for t in tickets]
    pairs = [("范围", place_name(selection)), ("时间", f"截至 {local(now):%Y-%m-%d %H:%M}"),
             ("排序", "紧急程度从高到低，同一紧急程度超时最久的在前")]
    return Table(f"{place_name(selection)} 当前超时工单", columns, rows, pairs, [FORMULAS["overdue"]])


def overdue_row(ticket, now):
    """One overdue ticket, flat, with how long it is late in words (已超时 3 天)."""
    late = late_minutes(ticket, now)
    return {"number": ticket.number, "priority": ticket.priority.label, "priority_value": ticket.priority,
            "community": ticket.community.name, "category": ticket.category.name if ticket.category else "未分类",
            "status": ticket.status.label, "status_value": ticket.status,
            "deadline": ticket.sla_deadline_at or ticket.resolution_due_at,
            "late": clock_words(ticket, now)[0] if late and late > 0 else "",
            "late_hours": round(late / 60, 1) if late and late > 0 else None,
            "holder": holder_of(ticket), "description": ticket.description}


def late_minutes(ticket, now):
    """Minutes past the deadline that matters now (negative: still to come), or None without a deadline."""
    deadline = ticket.sla_deadline_at or ticket.resolution_due_at
    return None if deadline is None else (as_utc(now) - as_utc(deadline)).total_seconds() / 60


def clock_words(ticket, now):
    """(words, late): 已超时 3 天 / 剩余 5 小时 against the deadline that matters now, in calendar time (how long
    the resident has waited past the promise), 计时暂停 while the clock is paused."""
    if ticket.sla_paused_at is not None:
        return "计时暂停（等居民补充）", False
    minutes = late_minutes(ticket, now)
    if minutes is None:
        return "无时限", False
    if minutes > 0:
        return f"已超时 {amount_text(minutes, working=False)}", True
    return f"剩余 {amount_text(-minutes, working=False)}", False


def holder_of(ticket):
    """Who holds a ticket now: a volunteer, a department, or the community."""
    if ticket.assignee:
        return ticket.assignee.display_name
    if ticket.department:
        return ticket.department.name
    return "社区"


def rate_labels():
    """The rates' Chinese names."""
    return {k: RATE_LABELS[k] for k in RATE_KEYS}


# ---- the monthly report ----

def month_of(text, today):
    """The first day of the month a report is for: YYYY-MM, or last month by default."""
    if not text:
        return (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    try:
        first = date.fromisoformat(f"{text}-01")
    except ValueError:
        raise BadRequest(f"月份「{text}」无效，请写成 2026-10 这样的格式") from None
    if first > today:
        raise BadRequest(f"{text} 还没到，不能出月报")
    return first


def monthly_report(street, month_text, today, now):
    """A street's report for one month: ((file name, ASCII name), tables) with the three rates per community first."""
    first = month_of(month_text, today)
    last = min((first + timedelta(days=32)).replace(day=1) - timedelta(days=1), today)
    selection = Selection(first, last, street_id=street.id)
    communities = metrics_table(selection, "community", now)
    communities.title = f"{first:%Y-%m} 各社区三率"
    communities.rows.append({**total_row(selection), "label": "街道合计",
                             "overdue": sum(r.get("overdue", 0) for r in communities.rows)})
    categories = metrics_table(selection, "category", now)
    categories.title = f"{first:%Y-%m} 按类别"
    late = overdue_table(selection, metrics.overdue_tickets(selection, now), now)
    late.title = "当前超时工单"
    return (f"{street.name}_{first:%Y年%m月}月报", f"{street.code}_monthly_report_{first:%Y-%m}"), \
        [communities, categories, late]


# ---- links: a selection (narrowed to one row) as a query string ----

CODED = {"street_id": ("street", Street), "community_id": ("community", Community),
         "category_id": ("category", Category), "department_id": ("department", Department)}
PLAIN = {"handler_user_id": "volunteer", "channel": "channel", "status": "status"}


def link_args(selection, by=None, key=None, **extra):
    """Query arguments that select the same tickets (narrowed to one group's key), for links and exports."""
    if by:
        selection = selection.narrowed(by, key) if key is not None else selection
    found = {"from": selection.start.isoformat(), "to": selection.end.isoformat()}
    for field, value in selection.filters().items():
        if field in CODED:
            name, model = CODED[field]
            found[name] = _row(model, value).code
        else:
            found[PLAIN[field]] = value
    if "community" in found:
        found.pop("street", None)
    return {**found, **{k: v for k, v in extra.items() if v is not None}}


def drill_url(by, key):
    """Where a row's name leads: a street's or community's overview; None for other groupings."""
    if by == "street" and key is not None:
        return url_for("monitor.street", street_id=key)
    if by == "community" and key is not None:
        return url_for("monitor.community", community_id=key)
    return None
