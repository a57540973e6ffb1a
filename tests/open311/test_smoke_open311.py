"""The shortest path through the Open311 door: list, define, post, read back."""
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
    assert "楼层：3" in found[0]["description"]
