"""The console's ticket page shows what the Open311 door kept, with contacts masked outside the community."""
from tests.conftest import login
from tests.open311.conftest import BASE


def _posted(post_request):
    answer = post_request(email="zhangsan@example.com", account_id="acct-7", device_id="dev-1",
                          address_id="A-42", media_url="https://partner.example.com/p/1.jpg", phone="13800138000")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()[0]["service_request_id"]


def test_the_communitys_staff_see_the_email_whole(client, post_request):
    number = _posted(post_request)
    login(client, "director")
    page = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert "zhangsan@example.com" in page
    assert "o311-community-yanchenglu" in page and "A-42" in page and "acct-7" in page
    assert "https://partner.example.com/p/1.jpg" in page


def test_the_street_sees_the_email_and_phone_masked(client, post_request):
    number = _posted(post_request)
    login(client, "street")
    page = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert "zhangsan@example.com" not in page and "z***@example.com" in page
    assert "13800138000" not in page and "138****8000" in page


def test_other_tickets_have_no_open311_facts(client, make_ticket):
    ticket = make_ticket()
    login(client, "director")
    page = client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert "data-door-fact" not in page


def test_open311_answers_never_carry_the_contacts(client, post_request):
    number = _posted(post_request)
    body = client.get(f"{BASE}/requests/{number}.json").get_data(as_text=True)
    assert "zhangsan" not in body and "13800138000" not in body and "acct-7" not in body
