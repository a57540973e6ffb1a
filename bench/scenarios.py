"""What the load client sends: the bodies for the write targets and the mix of ticket-list queries."""
import json
import random
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from bench.load import Call
from dispatch.demo import data as demo
from dispatch.tickets.lifecycle import OPEN_STATUSES
from dispatch.timeutil import SHANGHAI

OPEN = ",".join(sorted(s.value for s in OPEN_STATUSES))
SEARCH_TERMS = ("停水", "漏水", "路灯", "噪音", "电梯", "暖气", "垃圾", "井盖")


def create_bodies(communities, count=500, seed=7):
    """JSON bodies like an API client's: a resident's message, a community, half with a caller's phone."""
    rng = random.Random(seed)
    bodies = []
    for i in range(count):
        body = {"description": rng.choice(demo.RESIDENT_MESSAGES)[0], "community": rng.choice(communities),
                "channel": rng.choice(("api", "phone", "web_form")), "address": rng.choice(demo.STREET_ADDRESSES)}
        if i % 2:
            body["resident"] = {"phone": f"139{rng.randrange(10 ** 8):08d}", "name": rng.choice(demo.RESIDENT_SURNAMES)
                                + rng.choice(("先生", "女士", "大爷", "阿姨"))}
        bodies.append(json.dumps(body, ensure_ascii=False).encode())
    return bodies


def bearer(token):
    """The Authorization header for a raw token."""
    return (("Authorization", f"Bearer {token}"),)


def throughput_calls(org, tokens):
    """The calls each throughput target repeats: constant, one-row insert, ticket creation."""
    bodies = create_bodies(org["communities"])
    auth = bearer(tokens["district"])
    return {
        "const": [Call("GET", "/const", kind="const")],
        "insert": [Call("POST", "/insert", body=b, ok=(201,), kind="insert") for b in bodies],
        "create": [Call("POST", "/api/v1/tickets", body=b, headers=auth, ok=(201,), kind="create") for b in bodies],
    }


def _window(rng, today):
    """A two-week created_from/created_to window somewhere in the last ten weeks (Shanghai dates)."""
    start = today - timedelta(days=rng.randrange(14, 70))
    return {"created_from": start.isoformat(), "created_to": (start + timedelta(days=14)).isoformat()}


def district_kinds(rng, org, today):
    """One of each district-token query, with this round's community, category, window and term."""
    community = rng.choice(org["communities"])
    return {
        "newest (no filter)": {},
        "community open": {"community": community, "status": OPEN},
        "status accepted,dispatched": {"status": "accepted,dispatched"},
        "category + date range": {"category": rng.choice(org["categories"]), **_window(rng, today)},
        "overdue": {"overdue": "true"},
        "street": {"street": org["street_of"][community]},
        "text search q=": {"q": rng.choice(SEARCH_TERMS)},
        "page 3": {"page": "3"},
    }


def community_kinds(rng, org, today):
    """The list as a community-scoped token sees it."""
    return {
        "newest (no filter)": {},
        "open": {"status": OPEN},
        "overdue": {"overdue": "true"},
        "text search q=": {"q": rng.choice(SEARCH_TERMS)},
        "page 3": {"page": "3"},
    }


def list_calls(org, tokens, rounds, seed=11):
    """`rounds` passes over both mixes, interleaved; each call's kind is 'scope: query'."""
    rng = random.Random(seed)
    today = datetime.now(timezone.utc).astimezone(SHANGHAI).date()
    calls = []
    for _ in range(rounds):
        for scope, kinds in (("district", district_kinds), ("community", community_kinds)):
            for name, params in kinds(rng, org, today).items():
                path = "/api/v1/tickets" + (f"?{urlencode(params)}" if params else "")
                calls.append(Call("GET", path, headers=bearer(tokens[scope]), kind=f"{scope}: {name}"))
    return calls
