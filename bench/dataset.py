"""The bench database: create and drop it, build the schema and organisation, bulk-load tickets."""
import json
import random
from collections import Counter
from datetime import datetime, time, timedelta, timezone

import psycopg
from flask_migrate import upgrade
from psycopg import sql
from psycopg.conninfo import make_conninfo
from sqlalchemy import select

from config import DevelopmentConfig, normalise_database_url
from dispatch import create_app
from dispatch.demo import data as demo
from dispatch.extensions import db
from dispatch.org.models import Community, Department, District, Street
from dispatch.org.services import create_token
from dispatch.teams.categories import load_categories
from dispatch.tickets.lifecycle import OPEN_STATUSES
from dispatch.tickets.models import Category
from dispatch.timeutil import SHANGHAI

WEEKS = 10
CHANNEL_WEIGHTS = {"wechat_text": 40, "wechat_photo": 15, "wechat_voice": 5, "phone": 30, "web_form": 5, "api": 5}
RESPONSE_HOURS = {"urgent": 1, "high": 2, "normal": 4, "low": 8}
RESOLUTION_DAYS = {"urgent": 1, "high": 3, "normal": 7, "low": 15}
# Status mix by age in days: recent tickets are mostly open, old ones mostly closed.
STATUS_BY_AGE = (
    (0.5, {"new": 45, "accepted": 35, "dispatched": 15, "signed": 5}),
    (3, {"new": 5, "accepted": 10, "dispatched": 15, "signed": 10, "in_progress": 20, "waiting_resident": 5,
         "extension_requested": 3, "returned": 2, "resolved": 25, "invalid": 5}),
    (14, {"dispatched": 3, "signed": 2, "in_progress": 6, "waiting_resident": 2, "resolved": 30, "closed": 50,
          "invalid": 4, "merged": 2, "reopened": 1}),
    (None, {"in_progress": 1, "reopened": 1, "resolved": 5, "closed": 85, "invalid": 5, "merged": 3}),
)
TICKET_COLUMNS = ("id", "number", "channel", "community_id", "category_id", "priority", "status", "description",
                  "address", "response_due_at", "resolution_due_at", "sla_paused_seconds", "accepted_at",
                  "resolved_at", "closed_at", "created_at", "updated_at", "version")
EVENT_COLUMNS = ("ticket_id", "at", "kind", "actor_label", "to_status", "data")


def plain_url(database_url):
    """The URL as libpq understands it (without SQLAlchemy's +psycopg driver suffix)."""
    return database_url.replace("postgresql+psycopg://", "postgresql://")


def server_conninfo(database_url):
    """A connection string for the same server's maintenance database."""
    return make_conninfo(plain_url(database_url), dbname="postgres")


def database_name(database_url):
    """The database named in a URL."""
    return psycopg.conninfo.conninfo_to_dict(plain_url(database_url))["dbname"]


def recreate_database(database_url):
    """Drop the bench database if it exists and create it empty."""
    name = database_name(database_url)
    with psycopg.connect(server_conninfo(database_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(database_url):
    """Drop the bench database."""
    name = database_name(database_url)
    with psycopg.connect(server_conninfo(database_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def dispatch_app(database_url):
    """The real app, in-process, on the bench database (for setup and statement counts)."""
    config = DevelopmentConfig()
    config.SQLALCHEMY_DATABASE_URI = normalise_database_url(database_url)
    config.SQLALCHEMY_ECHO = False
    return create_app(config)


def _get_or_create(model, code, **values):
    """The row with this code, created with these values if missing."""
    row = db.session.scalar(select(model).where(model.code == code))
    if row is None:
        row = model(code=code, **values)
        db.session.add(row)
        db.session.flush()
    return row


def build_minimal_org():
    """District, streets, communities and departments from the demo data, without users or tickets."""
    district = _get_or_create(District, demo.DISTRICT["code"], name=demo.DISTRICT["name"])
    streets = {s["code"]: _get_or_create(Street, s["code"], name=s["name"], district_id=district.id)
               for s in demo.STREETS}
    for c in demo.COMMUNITIES:
        _get_or_create(Community, c["code"], name=c["name"], street_id=streets[c["street"]].id,
                       phone=c["phone"], address=c["address"])
    for d in demo.DEPARTMENTS:
        _get_or_create(Department, d["code"], name=d["name"])
    db.session.commit()


def build_org(log):
    """The demo organisation via seed-demo --tickets 0 if it is available, else a minimal one of our own."""
    try:
        from dispatch.demo.seed import seed

        for _line in seed(ticket_count=0):
            pass
        log("organisation: flask seed-demo --tickets 0")
    except Exception as exc:  # seed-demo is still being written: fall back to the plain demo data
        db.session.rollback()
        log(f"organisation: seed-demo unavailable ({type(exc).__name__}: {exc}); built a minimal one")
    build_minimal_org()


def organisation():
    """What the scenarios need to know: communities by street, category codes."""
    rows = db.session.execute(select(Community.code, Street.code).join(Street).order_by(Community.id)).all()
    return {"communities": [c for c, _ in rows], "street_of": dict(rows),
            "categories": list(db.session.scalars(select(Category.code).order_by(Category.sort_order)))}


def issue_tokens(community):
    """A district token and a community token, as raw bearer values."""
    return {"district": create_token("bench-district", "district")[1],
            "community": create_token("bench-community", f"community:{community}")[1]}


def prepare_schema(app, log):
    """Migrations, categories, organisation and tokens; returns the organisation facts and the tokens."""
    with app.app_context():
        upgrade()
        load_categories()
        build_org(log)
        org = organisation()
        org["home_community"] = org["communities"][0]
        tokens = issue_tokens(org["home_community"])
        db.session.remove()
        db.engine.dispose()
    return org, tokens


def _pick(rng, weights):
    """One key of a {key: weight} dict."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _status_for(rng, age_days):
    """A plausible status for a ticket of this age."""
    for limit, weights in STATUS_BY_AGE:
        if limit is None or age_days < limit:
            return _pick(rng, weights)


def _created_at(rng, now):
    """An instant in the last WEEKS weeks, mostly in Shanghai office hours (naive UTC)."""
    day = (now.astimezone(SHANGHAI) - timedelta(days=rng.randrange(WEEKS * 7))).date()
    hour = rng.choices(range(24), weights=[1, 1, 1, 1, 1, 2, 4, 8, 12, 12, 12, 10, 8, 10, 12, 12, 10, 8, 6, 5,
                                           4, 3, 2, 1])[0]
    local = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), SHANGHAI)
    return min(local.astimezone(timezone.utc), now - timedelta(minutes=1)).replace(tzinfo=None)


def _lifecycle_times(rng, status, priority, created, now):
    """accepted, resolved, closed, response due, resolution due for a ticket in this status."""
    naive_now = now.replace(tzinfo=None)
    accepted = None if status == "new" else min(created + timedelta(minutes=rng.randrange(5, 240)), naive_now)
    resolved = closed = None
    if status in ("resolved", "closed"):
        resolved = min(created + timedelta(hours=rng.uniform(2, 120)), naive_now)
    if status == "closed":
        closed = min(resolved + timedelta(hours=rng.uniform(4, 72)), naive_now)
    if status in ("invalid", "merged"):
        closed = accepted
    response_due = created + timedelta(hours=RESPONSE_HOURS[priority])
    resolution_due = created + timedelta(days=RESOLUTION_DAYS[priority]) if accepted else None
    return accepted, resolved, closed, response_due, resolution_due


def ticket_rows(count, community_ids, category_ids, now, first_id=1, per_day=None, seed=20261121):
    """`count` realistic ticket rows in created_at order, numbered per Shanghai day; plus the day counters."""
    rng = random.Random(seed)
    community_weights = [1 / (i + 1) ** 0.6 for i in range(len(community_ids))]  # some communities are busier
    created = sorted(_created_at(rng, now) for _ in range(count))
    per_day = Counter(per_day or {})
    rows = []
    for ticket_id, at in enumerate(created, start=first_id):
        text, category, priority = rng.choice(demo.RESIDENT_MESSAGES)
        status = _status_for(rng, (now.replace(tzinfo=None) - at).total_seconds() / 86400)
        accepted, resolved, closed, response_due, resolution_due = _lifecycle_times(rng, status, priority, at, now)
        day = at.replace(tzinfo=timezone.utc).astimezone(SHANGHAI).date()
        per_day[day] += 1
        rows.append((ticket_id, f"{day:%Y%m%d}-{per_day[day]:04d}", _pick(rng, CHANNEL_WEIGHTS),
                     rng.choices(community_ids, weights=community_weights)[0], category_ids.get(category),
                     priority, status, text, rng.choice(demo.STREET_ADDRESSES) if rng.random() < 0.6 else None,
                     response_due, resolution_due, 0, accepted, resolved, closed, at,
                     max(t for t in (at, accepted, resolved, closed) if t), 1 if status == "new" else 3))
    return rows, per_day


def _copy(cur, table, columns, rows):
    """COPY rows into a table."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)))
    with cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def bulk_load_tickets(database_url, count, now=None):
    """COPY `count` tickets and their 'created' events into the real tables, fix the sequences, ANALYZE."""
    now = now or datetime.now(timezone.utc)
    with psycopg.connect(plain_url(database_url)) as conn, conn.cursor() as cur:
        community_ids = [r[0] for r in cur.execute("SELECT id FROM communities ORDER BY id")]
        category_ids = dict(cur.execute("SELECT code, id FROM categories"))
        first_id = cur.execute("SELECT coalesce(max(id), 0) + 1 FROM tickets").fetchone()[0]
        existing = dict(cur.execute("SELECT day, last FROM ticket_sequences"))
        rows, per_day = ticket_rows(count, community_ids, category_ids, now, first_id, existing)
        _copy(cur, "tickets", TICKET_COLUMNS, rows)
        created = json.dumps({"suggested_category": None})
        _copy(cur, "ticket_events", EVENT_COLUMNS,
              ((r[0], r[15], "created", "接口：bench-load", "new", created) for r in rows))
        cur.executemany("INSERT INTO ticket_sequences (day, last) VALUES (%s, %s) "
                        "ON CONFLICT (day) DO UPDATE SET last = excluded.last", list(per_day.items()))
        cur.execute("SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT max(id) FROM tickets))")
        conn.commit()
    with psycopg.connect(plain_url(database_url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return summarise(rows)


def summarise(rows):
    """A few facts about the loaded tickets, for the report."""
    open_values = {s.value for s in OPEN_STATUSES}
    return {"tickets": len(rows), "open": sum(1 for r in rows if r[6] in open_values),
            "communities": len({r[3] for r in rows}), "first_created": str(rows[0][15]) if rows else None,
            "statuses": dict(Counter(r[6] for r in rows).most_common())}

