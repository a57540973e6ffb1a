"""Staff complete in the console what a photo, a voice or a call left without words."""
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.tickets.models import Ticket
from tests.conftest import csrf_from, login

CALL = {"call_id": "cti-1", "caller": "13812345678", "community": "yanchenglu"}


def test_staff_write_down_a_calls_content_and_it_is_classified(api, client, org):
    number = api.post("/api/v1/calls", json=CALL).get_json()["ticket"]
    login(client, "staff")
    page = client.get(f"/tickets/{number}")
    assert "保存内容" in page.get_data(as_text=True)
    token = csrf_from(client, f"/tickets/{number}")
    ticket = db.session.scalars(select(Ticket)).one()
    done = client.post(f"/tickets/{number}/describe", data={
        "csrf_token": token, "version": ticket.version, "description": "居民来电：福州南路84号1单元楼道灯坏了",
        "address": ""}, follow_redirects=True)
    assert done.status_code == 200 and "已补充诉求内容" in done.get_data(as_text=True)
    db.session.expire_all()
    ticket = db.session.scalars(select(Ticket)).one()
    assert not ticket.description_pending and ticket.category is not None and "楼道灯" in ticket.description
    assert "described" in [e.kind for e in ticket.events]
    empty = client.post(f"/tickets/{number}/describe", data={"csrf_token": token, "version": ticket.version,
                                                             "description": " "}, follow_redirects=True)
    assert "请填写诉求内容" in empty.get_data(as_text=True)


def test_volunteers_cannot_complete_drafts_and_other_communities_see_404(api, client, org):
    number = api.post("/api/v1/calls", json=CALL).get_json()["ticket"]
    login(client, "staff3")
    assert client.get(f"/tickets/{number}").status_code == 404
