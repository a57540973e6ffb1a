"""SLA policies: the defaults from published practice, choosing one for a ticket, and edits that never reach back."""
from dataclasses import dataclass

from sqlalchemy import select

from dispatch.cache import TtlCache
from dispatch.errors import Invalid, NotFound
from dispatch.extensions import db
from dispatch.rows import snapshot
from dispatch.sla.clock import Unit
from dispatch.sla.models import CHAIN_ROLES, SlaPolicy
from dispatch.tickets.models import Category, Priority

# Published 12345-hotline practice (docs/ARCHITECTURE.md, "Default policies"): emergencies answered within
# 2 hours; water, power, gas and heating fixed within 24 hours; general matters 7 days, complex ones 15;
# consultations 2–3 working days; complaints 13–15 working days; responses within working hours.
# (name, category codes or None, priority, response, resolution)
DEFAULT_POLICIES = (
    ("紧急事项", None, Priority.URGENT, (2, Unit.HOURS), (24, Unit.HOURS)),
    ("水电维修", ("water_power",), None, (2, Unit.WORKING_HOURS), (24, Unit.HOURS)),
    ("燃气暖气", ("gas_heating",), None, (2, Unit.WORKING_HOURS), (24, Unit.HOURS)),
    ("复杂事项", ("neighbour", "property", "city_management"), None, (1, Unit.WORKING_DAYS), (15, Unit.DAYS)),
    ("政策咨询", ("consultation",), None, (1, Unit.WORKING_DAYS), (3, Unit.WORKING_DAYS)),
    ("意见建议", ("suggestion",), None, (2, Unit.WORKING_DAYS), (15, Unit.WORKING_DAYS)),
    ("一般事项", None, None, (1, Unit.WORKING_DAYS), (7, Unit.DAYS)),
)

_active = TtlCache("REFERENCE_CACHE_SECONDS", max_entries=1)


@dataclass
class PolicyInput:
    """An admin's policy, as typed in the console or on the command line."""

    name: str
    category: Category | None
    priority: Priority | None
    response_amount: int
    response_unit: Unit
    resolution_amount: int
    resolution_unit: Unit
    warn_percent: int = 75
    escalation_chain: tuple = CHAIN_ROLES
    escalation_step_percent: int = 25


def validate(data):
    """Refuse a policy that could not be counted, with a reason per field."""
    errors = {}
    if not (data.name or "").strip():
        errors["name"] = ["必填"]
    for field in ("response_amount", "resolution_amount"):
        if not isinstance(getattr(data, field), int) or not 1 <= getattr(data, field) <= 1000:
            errors[field] = ["应为 1 到 1000 之间的整数"]
    if not 1 <= data.warn_percent <= 99:
        errors["warn_percent"] = ["预警点应在 1% 到 99% 之间"]
    if not 1 <= data.escalation_step_percent <= 200:
        errors["escalation_step_percent"] = ["升级间隔应在 1% 到 200% 之间"]
    unknown = [r for r in data.escalation_chain if r not in CHAIN_ROLES]
    if unknown or len(set(data.escalation_chain)) != len(data.escalation_chain):
        errors["escalation_chain"] = [f"只能依次选择 {', '.join(CHAIN_ROLES)}，不能重复"]
    if errors:
        raise Invalid("时限规则填写有误：" + "；".join(f"{k}：{v[0]}" for k, v in errors.items()), fields=errors)


def _row(data, created_by):
    return SlaPolicy(name=data.name.strip(), category=data.category, priority=data.priority,
                     response_amount=data.response_amount, response_unit=data.response_unit,
                     resolution_amount=data.resolution_amount, resolution_unit=data.resolution_unit,
                     warn_percent=data.warn_percent, escalation_chain=",".join(data.escalation_chain),
                     escalation_step_percent=data.escalation_step_percent, created_by=created_by)


def add_policy(data, created_by=None):
    """A new policy, for tickets opened from now on."""
    validate(data)
    policy = _row(data, created_by)
    db.session.add(policy)
    db.session.commit()
    _active.forget()
    return policy


def replace_policy(policy_id, data, created_by=None):
    """An edit: a new row takes the old one's place for new tickets; tickets already open keep the old one."""
    validate(data)
    old = db.session.get(SlaPolicy, policy_id)
    if old is None or not old.active:
        raise NotFound(f"找不到有效的时限规则 #{policy_id}")
    new = _row(data, created_by)
    db.session.add(new)
    db.session.flush()
    old.active, old.replaced_by_id = False, new.id
    db.session.commit()
    _active.forget()
    return new


def retire_policy(policy_id):
    """Stop choosing a policy for new tickets (open tickets keep it)."""
    policy = db.session.get(SlaPolicy, policy_id)
    if policy is None or not policy.active:
        raise NotFound(f"找不到有效的时限规则 #{policy_id}")
    policy.active = False
    db.session.commit()
    _active.forget()
    return policy


def in_choice_order(rows):
    """Policies in the order choose() tries them: most specific first, then the newest."""
    return sorted(rows, key=lambda p: (-p.specificity, -p.id))


def active_policies():
    """Every policy new tickets may get, most specific first (session-free snapshots, cached briefly)."""
    def load():
        rows = db.session.scalars(select(SlaPolicy).where(SlaPolicy.active)).all()
        return tuple(snapshot(p) for p in in_choice_order(rows))
    return _active.get("all", load)


def choose(category_id, priority):
    """The most specific active policy for a category and priority: both named, then priority, then category."""
    for policy in active_policies():
        if policy.category_id not in (None, category_id):
            continue
        if policy.priority is not None and policy.priority != priority:
            continue
        return policy
    return None


def seed_defaults(created_by="seed"):
    """Add the default policies that are missing (by name); returns how many were added."""
    existing = set(db.session.scalars(select(SlaPolicy.name).where(SlaPolicy.active)))
    categories = {c.code: c for c in db.session.scalars(select(Category))}
    added = 0
    for name, codes, priority, response, resolution in DEFAULT_POLICIES:
        for code in codes or (None,):
            label = f"{name}（{categories[code].name}）" if code and len(codes) > 1 and code in categories else name
            if label in existing or (code and code not in categories):
                continue
            db.session.add(_row(PolicyInput(label, categories.get(code), priority, *response, *resolution),
                                created_by))
            added += 1
    db.session.commit()
    _active.forget()
    return added
