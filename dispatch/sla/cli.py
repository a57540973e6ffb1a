"""flask sla …: policies, holidays, years entered by hand, and a sweep on demand."""
import re
from datetime import date

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from dispatch.errors import AppError
from dispatch.extensions import db
from dispatch.org.models import Community
from dispatch.sla import policies
from dispatch.sla.calendars import forget_calendars, package_years
from dispatch.sla.clock import Limit, Unit
from dispatch.sla.services import recount_errors
from dispatch.sla.models import CHAIN_ROLES, CalendarDay, CalendarYear, SlaPolicy
from dispatch.tickets.models import Category, Priority
from dispatch.timeutil import now

UNIT_SUFFIXES = {"h": Unit.HOURS, "d": Unit.DAYS, "wh": Unit.WORKING_HOURS, "wd": Unit.WORKING_DAYS}


class LimitParam(click.ParamType):
    """'2h' hours, '7d' days, '8wh' working hours, '3wd' working days."""

    name = "limit"

    def convert(self, value, param, ctx):
        if isinstance(value, Limit):
            return value
        match = re.fullmatch(r"\s*(\d+)\s*(wh|wd|h|d)\s*", str(value).lower())
        if not match:
            self.fail(f"{value!r}: write a number and a unit: 2h, 7d, 8wh (working hours) or 3wd (working days)")
        return Limit(int(match.group(1)), UNIT_SUFFIXES[match.group(2)])


def _fail(exc):
    raise click.ClickException(exc.message) from exc


def _limit_text(limit):
    suffix = {v: k for k, v in UNIT_SUFFIXES.items()}[limit.unit]
    return f"{limit.amount}{suffix}"


def _named(model, code, option):
    """The category or community an option names (None when not given); a usage error when unknown."""
    if not code:
        return None
    found = db.session.scalar(select(model).where(model.code == code))
    if found is None:
        raise click.BadParameter(f"unknown {option.lstrip('-')} {code!r}", param_hint=option)
    return found


def _category(code):
    return _named(Category, code, "--category")


def _chain(text):
    chain = tuple(r.strip() for r in text.split(",") if r.strip())
    if any(r not in CHAIN_ROLES for r in chain):
        raise click.BadParameter(f"choose from {', '.join(CHAIN_ROLES)}", param_hint="--chain")
    return chain


@click.group("sla")
def sla():
    """SLA policies and the working calendar."""


@sla.command("policies")
@with_appcontext
def list_policies():
    """The active policies, most specific first."""
    for p in policies.in_choice_order(db.session.scalars(select(SlaPolicy).where(SlaPolicy.active))):
        click.echo(f"#{p.id:<4} {p.name:<16} category={p.category.code if p.category else '*':<16} "
                   f"priority={p.priority.value if p.priority else '*':<7} response={_limit_text(p.response_limit):<5} "
                   f"resolution={_limit_text(p.resolution_limit):<5} warn={p.warn_percent}% chain={p.escalation_chain} "
                   f"step={p.escalation_step_percent}%")


@sla.command("seed-defaults")
@with_appcontext
def seed_defaults():
    """Add the default policies (published 12345-hotline practice, see docs/ARCHITECTURE.md) that are missing."""
    click.echo(f"added {policies.seed_defaults()} default policies")


def _policy_options(fn):
    for option in reversed((
        click.option("--category", help="category code (default: any)"),
        click.option("--priority", type=click.Choice([p.value for p in Priority]), help="default: any"),
        click.option("--response", type=LimitParam(), help="e.g. 2h, 8wh, 1wd"),
        click.option("--resolution", type=LimitParam(), help="e.g. 24h, 7d, 15wd"),
        click.option("--warn", type=int, help="warning point, % of the limit (default 75)"),
        click.option("--chain", help="escalation chain, e.g. assignee,director,supervisor"),
        click.option("--step", type=int, help="escalation step, % of the limit (default 25)"),
    )):
        fn = option(fn)
    return fn


@sla.command("add-policy")
@click.argument("name")
@_policy_options
@with_appcontext
def add_policy(name, category, priority, response, resolution, warn, chain, step):
    """Add a policy for new tickets."""
    if response is None or resolution is None:
        raise click.UsageError("--response and --resolution are required")
    data = policies.PolicyInput(name, _category(category), Priority(priority) if priority else None,
                                response.amount, response.unit, resolution.amount, resolution.unit,
                                warn or 75, _chain(chain) if chain else CHAIN_ROLES, step or 25)
    try:
        policy = policies.add_policy(data, created_by="cli")
    except AppError as exc:
        _fail(exc)
    click.echo(f"added policy #{policy.id} {policy.name}")


@sla.command("edit-policy")
@click.argument("policy_id", type=int)
@click.option("--name")
@_policy_options
@with_appcontext
def edit_policy(policy_id, name, category, priority, response, resolution, warn, chain, step):
    """Replace a policy for new tickets; tickets already open keep counting by the old one."""
    old = db.session.get(SlaPolicy, policy_id)
    if old is None or not old.active:
        raise click.ClickException(f"no active policy #{policy_id}")
    response, resolution = response or old.response_limit, resolution or old.resolution_limit
    data = policies.PolicyInput(
        name or old.name, _category(category) if category else old.category,
        Priority(priority) if priority else old.priority, response.amount, response.unit, resolution.amount,
        resolution.unit, warn or old.warn_percent, _chain(chain) if chain else old.chain,
        step or old.escalation_step_percent)
    try:
        new = policies.replace_policy(policy_id, data, created_by="cli")
    except AppError as exc:
        _fail(exc)
    click.echo(f"policy #{policy_id} replaced by #{new.id}; open tickets keep #{policy_id}")


@sla.command("retire-policy")
@click.argument("policy_id", type=int)
@with_appcontext
def retire_policy(policy_id):
    """Stop choosing a policy for new tickets."""
    try:
        policies.retire_policy(policy_id)
    except AppError as exc:
        _fail(exc)
    click.echo(f"policy #{policy_id} retired")


def _community(code):
    return _named(Community, code, "--community")


@sla.command("holiday")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("name")
@click.option("--workday", is_flag=True, help="a make-up working day (调休) instead of a day off")
@click.option("--community", help="a local closure of one community (default: the whole district)")
@with_appcontext
def holiday(day, name, workday, community):
    """Enter a day off (or a make-up working day) that differs from chinese_calendar."""
    place = _community(community)
    owner = CalendarDay.community_id == place.id if place else CalendarDay.community_id.is_(None)
    row = db.session.scalar(select(CalendarDay).where(CalendarDay.day == day.date(), owner))
    row = row or CalendarDay(day=day.date(), community=place)
    row.name, row.workday = name, workday
    db.session.add(row)
    db.session.commit()
    forget_calendars()
    click.echo(f"{day:%Y-%m-%d} {'working day' if workday else 'day off'}: {name}"
               f" ({place.name if place else 'whole district'})")
    _recount()


@sla.command("enter-year")
@click.argument("year", type=int)
@click.option("--note", default=None)
@with_appcontext
def enter_year(year, note):
    """Declare a year's holidays complete in the table (for years chinese_calendar does not know)."""
    first, last = package_years()
    if first <= year <= last:
        raise click.ClickException(f"chinese_calendar already knows {year}; enter only local differences")
    entered = db.session.get(CalendarYear, year) or CalendarYear(year=year)
    entered.note = note
    db.session.add(entered)
    db.session.commit()
    forget_calendars()
    days = db.session.scalars(select(CalendarDay).where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)),
                                                        CalendarDay.community_id.is_(None))).all()
    click.echo(f"{year} entered: weekdays work, weekends rest, except {len(days)} listed day(s)")
    _recount()


def _recount():
    counted, failing = recount_errors()
    if counted or failing:
        click.echo(f"open tickets without clocks: {counted} now counted, {failing} still cannot be")


@sla.command("recount")
@with_appcontext
def recount():
    """Give clocks to open tickets whose calendar could not be counted before."""
    _recount()


@sla.command("calendar")
@with_appcontext
def calendar_info():
    """Which years can be counted, and the days entered by hand."""
    first, last = package_years()
    entered = list(db.session.scalars(select(CalendarYear.year).order_by(CalendarYear.year)))
    click.echo(f"chinese_calendar knows {first}–{last}; entered by hand: {', '.join(map(str, entered)) or 'none'}")
    for row in db.session.scalars(select(CalendarDay).order_by(CalendarDay.day)):
        where = row.community.name if row.community else "whole district"
        click.echo(f"  {row.day} {'work' if row.workday else 'off '} {row.name} ({where})")


@sla.command("sweep")
@with_appcontext
def sweep():
    """Run the SLA sweep once, now."""
    from dispatch.sla.sweep import run_sla_sweep
    click.echo(f"{run_sla_sweep(now())} SLA events fired")
