"""The printable work order (派工单): A4, QR code to the ticket, the facts a holder needs on site, signature lines."""
import re
from io import BytesIO

from PIL import Image

from dispatch.org.principal import Principal
from dispatch.tickets import pipeline
from tests.conftest import csrf_from, login


def held_ticket(org, make_ticket):
    ticket = make_ticket("3号楼2单元走廊灯坏了，晚上看不见", resident_phone="13812341234", resident_name="张阿姨",
                         address="盐城路6号3号楼2单元")
    director = Principal.from_user(org.director)
    pipeline.act(director, ticket, "accept")
    pipeline.act(director, ticket, "dispatch", assignee="volunteer")
    return ticket


def test_the_work_order_has_everything_a_holder_needs_on_one_a4_page(client, org, make_ticket):
    ticket = held_ticket(org, make_ticket)
    login(client, "director")
    assert f"/tickets/{ticket.number}/print" in client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    response = client.get(f"/tickets/{ticket.number}/print")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "@page { size: A4" in page and "<svg" in page and "扫码查看工单" in page
    for shown in (ticket.number, "张阿姨", "13812341234", "盐城路6号3号楼2单元", "走廊灯坏了", "办结时限",
                  "365服务队志愿者 李师傅", "承办人签字", "居民签字", "日期", "紧急程度", "盐城路社区"):
        assert shown in page, shown


def test_the_qr_code_leads_to_the_ticket_page(client, org, make_ticket):
    """The SVG is the link's QR code: the same link, encoded by segno, gives the same picture."""
    import segno
    ticket = held_ticket(org, make_ticket)
    login(client, "director")
    page = client.get(f"/tickets/{ticket.number}/print").get_data(as_text=True)
    link = re.search(r'data-qr="([^"]+)"', page).group(1)
    assert link.startswith("http") and link.endswith(f"/tickets/{ticket.number}")
    path = segno.make(link, error="m").svg_inline(scale=3, border=2, title="扫码打开工单")
    assert path in page


def test_each_viewer_sees_the_phone_as_the_masking_rules_say(client, org, make_ticket):
    ticket = held_ticket(org, make_ticket)
    login(client, "street")  # the street's supervisor: masked
    page = client.get(f"/tickets/{ticket.number}/print").get_data(as_text=True)
    assert "138****1234" in page and "13812341234" not in page


def test_the_holder_prints_from_the_desk(client, org, make_ticket):
    ticket = held_ticket(org, make_ticket)
    login(client, "volunteer")
    assert f"/tickets/{ticket.number}/print" in client.get(f"/desk/tasks/{ticket.number}").get_data(as_text=True)
    sheet = client.get(f"/tickets/{ticket.number}/print")
    assert sheet.status_code == 200 and f'href="/desk/tasks/{ticket.number}">‹ 返回任务' in sheet.get_data(as_text=True)


def test_photos_are_printed_as_thumbnails(client, org, make_ticket):
    ticket = held_ticket(org, make_ticket)
    login(client, "director")
    out = BytesIO()
    Image.new("RGB", (400, 300), (200, 30, 30)).save(out, "JPEG")
    url = f"/tickets/{ticket.number}"
    client.post(f"{url}/photos", data={"csrf_token": csrf_from(client, url), "photo": (BytesIO(out.getvalue()), "a.jpg")},
                content_type="multipart/form-data")
    page = client.get(f"{url}/print").get_data(as_text=True)
    assert 'alt="照片 1"' in page and "照片（1 张）" in page


def test_out_of_scope_or_unknown_is_a_404(client, org, make_ticket):
    ticket = held_ticket(org, make_ticket)
    for who in ("staff3", "volunteer2", "dept"):
        login(client, who)
        assert client.get(f"/tickets/{ticket.number}/print").status_code == 404, who
    login(client, "director")
    assert client.get("/tickets/20991231-9999/print").status_code == 404
