"""POST /api/v1/calls: the phone system logs calls; each opens one draft phone ticket, repeats change nothing."""

from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.intake.models import PhoneCall
from dispatch.tickets.models import Channel, Ticket
from tests.conftest import at_once

CALL = {"call_id": "cti-20261120-0001", "caller": "13812345678", "community": "yanchenglu",
        "called_at": "2026-11-20T10:02:00+08:00", "recording_url": "https://pbx.example/rec/0001.mp3"}


def test_a_call_opens_a_draft_phone_ticket_and_a_repeat_is_idempotent(api, org):
    first = api.post("/api/v1/calls", json=CALL)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["created"] is True and body["community"] == "yanchenglu"
    ticket = db.session.scalars(select(Ticket)).one()
    assert ticket.number == body["ticket"] and ticket.channel is Channel.PHONE and ticket.description_pending
    assert ticket.resident.phone == "13812345678" and ticket.category is None
    again = api.post("/api/v1/calls", json=CALL)
    assert again.status_code == 200 and again.get_json()["ticket"] == body["ticket"]
    assert again.get_json()["created"] is False
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 1
    call = db.session.scalars(select(PhoneCall)).one()
    assert call.recording_url.endswith("0001.mp3") and call.called_at.hour == 2  # stored in UTC


def test_bad_calls_get_clear_errors(api_as, api, org):
    assert api.post("/api/v1/calls", json={"caller": "138"}).status_code == 422
    bad = api.post("/api/v1/calls", json={**CALL, "caller": "call me", "recording_url": "ftp://x"})
    assert bad.status_code == 422 and {"caller", "recording_url"} <= set(bad.get_json()["error"]["fields"])
    assert api.post("/api/v1/calls", json={**CALL, "community": "nowhere"}).status_code == 422
    assert api.post("/api/v1/calls", json={**CALL, "called_at": "yesterday"}).status_code == 422
    other = api_as("community:fuzhoulu")
    assert other.post("/api/v1/calls", json={**CALL, "call_id": "x-2"}).status_code == 404
    own = other.post("/api/v1/calls", json={"call_id": "x-3", "caller": "13900000000"})
    assert own.status_code == 201 and own.get_json()["community"] == "fuzhoulu"
    assert api.post("/api/v1/calls", data="nope", content_type="text/plain").status_code == 415


def test_concurrent_reports_of_one_call_make_one_ticket(app, api, org):
    headers = api.headers
    results = []

    def send():
        with app.test_client() as c:
            r = c.post("/api/v1/calls", json={**CALL, "call_id": "cti-race"},
                       headers=headers)
            results.append((r.status_code, r.get_json()["ticket"]))

    db.session.commit()
    at_once(send, 5)
    assert sorted(code for code, _ in results) == [200, 200, 200, 200, 201]
    assert len({number for _, number in results}) == 1
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 1
