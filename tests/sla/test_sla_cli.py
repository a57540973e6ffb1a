"""flask sla …: policies added, edited (a new row) and retired; holidays and years; bad input refused."""
from datetime import date

from sqlalchemy import select

from dispatch.extensions import db
from dispatch.sla.clock import Unit
from dispatch.sla.models import CalendarDay, CalendarYear, SlaPolicy


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_seed_then_list_the_default_policies(app, org):
    assert "added 9 default policies" in run(app, "sla", "seed-defaults").output
    assert "added 0 default policies" in run(app, "sla", "seed-defaults").output  # idempotent
    listing = run(app, "sla", "policies").output
    assert "紧急事项" in listing and "response=2h" in listing and "resolution=15wd" in listing


def test_edit_makes_a_new_policy_and_retires_the_old_one(app, org):
    added = run(app, "sla", "add-policy", "楼道灯", "--category", "lighting", "--response", "4wh",
                "--resolution", "3wd", "--chain", "assignee,director")
    assert added.exit_code == 0, added.output
    old = db.session.scalars(select(SlaPolicy)).one()
    assert (old.response_unit, old.resolution_amount, old.chain) == (Unit.WORKING_HOURS, 3, ("assignee", "director"))
    edited = run(app, "sla", "edit-policy", str(old.id), "--resolution", "5wd")
    assert edited.exit_code == 0 and "open tickets keep" in edited.output
    db.session.expire_all()
    new = db.session.scalar(select(SlaPolicy).where(SlaPolicy.active))
    assert (new.resolution_amount, new.response_amount, new.category.code) == (5, 4, "lighting")
    assert db.session.get(SlaPolicy, old.id).replaced_by_id == new.id
    assert run(app, "sla", "retire-policy", str(new.id)).exit_code == 0
    assert run(app, "sla", "retire-policy", str(new.id)).exit_code != 0


def test_bad_policies_are_refused_with_a_reason(app, org):
    bad_unit = run(app, "sla", "add-policy", "x", "--response", "2 weeks", "--resolution", "1d")
    assert bad_unit.exit_code == 2 and "8wh (working hours)" in bad_unit.output
    zero = run(app, "sla", "add-policy", "x", "--response", "0h", "--resolution", "1d")
    assert zero.exit_code == 1 and "1 到 1000" in zero.output
    unknown = run(app, "sla", "add-policy", "x", "--category", "nope", "--response", "1h", "--resolution", "1d")
    assert unknown.exit_code == 2 and "unknown category" in unknown.output
    assert db.session.scalar(select(SlaPolicy)) is None


def test_holidays_and_years_entered_by_hand(app, org):
    assert run(app, "sla", "holiday", "2026-12-24", "社区活动闭馆", "--community", "yanchenglu").exit_code == 0
    assert run(app, "sla", "holiday", "2026-12-26", "补班", "--workday").exit_code == 0
    assert run(app, "sla", "enter-year", "2026").exit_code == 1  # the package knows it already
    entered = run(app, "sla", "enter-year", "2027", "--note", "国务院办公厅通知")
    assert entered.exit_code == 0 and "2027 entered" in entered.output
    assert db.session.get(CalendarYear, 2027).note == "国务院办公厅通知"
    days = {(d.day, d.workday, d.community.code if d.community else None) for d in db.session.scalars(select(CalendarDay))}
    assert days == {(date(2026, 12, 24), False, "yanchenglu"), (date(2026, 12, 26), True, None)}
    info = run(app, "sla", "calendar").output
    assert "2004–2026" in info and "2027" in info and "社区活动闭馆" in info
