"""The shortest path through the Open311 door: list, define, post, read back."""
import pytest

from dispatch.errors import Invalid
from tests.open311.conftest import BASE
from tests.open311.georeport_schemas import REQUESTS, SERVICE_DEFINITION, SERVICES, errors_of


def test_a_posted_request_reads_back_as_an_open_ticket(client, post_request):
    services = client.get(f"{BASE}/services.json").get_json()
    assert errors_of(SERVICES, services) == []
    definition = client.get(f"{BASE}/services/lighting.json").get_json()
    assert errors_of(SERVICE_DEFINITION, definition) == []
    created = post_request(description="3楼楼道灯不亮", **{"attribute[floor]": "3"})
    assert created.status_code == 200, created.get_data(as_text=True)
    number = created.get_json()[0]["service_request_id"]
    found = client.get(f"{BASE}/requests/{number}.json").get_json()
    assert errors_of(REQUESTS, found) == []
    assert found[0]["status"] == "open" and found[0]["service_code"] == "lighting"
    assert found[0]["description"] == "3楼楼道灯不亮"


def test_a_key_with_the_longest_name_can_post(client, org):
    """The longest key name (50) fits the timeline's actor (64) with its door's label; a longer one is refused."""
    from dispatch.org.services import create_token
    from dispatch.tickets.models import TicketEvent
    with pytest.raises(Invalid):
        create_token("k" * 51, "community:yanchenglu", "open311")
    raw = create_token("k" * 50, "community:yanchenglu", "open311")[1]
    answer = client.post(f"{BASE}/requests.json", data={"api_key": raw, "service_code": "lighting",
                                                         "address_string": "盐城路8号", "first_name": "名" * 30,
                                                         "last_name": "姓" * 30})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    event = TicketEvent.query.filter_by(kind="created").one()
    assert event.actor_label == "Open311：" + "k" * 50
