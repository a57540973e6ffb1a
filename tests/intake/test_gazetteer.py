"""The district account finds the community: from the address in the words (the gazetteer), the location's
label, the QR code followed or the resident's known community; else it keeps the words and asks with a short
list, and the pick (a number in the chat, or the H5 form prefilled with the words) opens the ticket with them."""

import pytest
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.intake import gazetteer
from dispatch.intake.models import PlaceName
from dispatch.org.models import Resident
from dispatch.tickets.models import Ticket
from tests.conftest import csrf_from, login
from tests.intake.conftest import WeChatPlayer
from tests.intake.test_h5 import ResidentPhone, page_text

PAGE = "/teams/places"


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def places(org):
    """湛山路 split by house number between 盐城路 (1–49) and 福州路 (50 on); 香港中路 and 香港花园 in 香港花园社区."""
    db.session.add_all([PlaceName(community_id=org.c1.id, name="湛山路", first=1, last=49, parity="all"),
                        PlaceName(community_id=org.c2.id, name="湛山路", first=50, last=None, parity="all"),
                        PlaceName(community_id=org.c3.id, name="香港中路", parity="all"),
                        PlaceName(community_id=org.c3.id, name="香港花园", parity="all"),
                        PlaceName(community_id=org.c1.id, name="湛山三路", parity="odd"),
                        PlaceName(community_id=org.c2.id, name="湛山三路", parity="even")])
    db.session.commit()


@pytest.fixture
def district(client, district_account, places):
    return WeChatPlayer(client, "shinan", token="districtToken", appid="wxabcdefabcdef1234", aes_key=None)


def _tickets():
    return db.session.scalars(select(Ticket).order_by(Ticket.id)).all()


@pytest.mark.parametrize("words, community", [
    ("湛山路5号楼下的路灯坏了好几天了", "yanchenglu"),
    ("湛山路 60 号门口下水道堵了", "fuzhoulu"),
    ("湛山三路7号楼道灯不亮", "yanchenglu"),
    ("湛山三路8号楼道灯不亮", "fuzhoulu"),
    ("香港中路的井盖丢了", "xiangganghuayuan"),  # road alone: only one community has it
    ("我住香港花园，电梯坏了", "xiangganghuayuan"),
])
def test_an_address_in_the_words_opens_the_ticket_in_its_community_without_a_question(district, words, community):
    _, reply = district.say(words)
    [ticket] = _tickets()
    assert ticket.community.code == community and ticket.description == words
    assert ticket.number in reply["Content"] and "哪个社区" not in reply["Content"]


def test_without_an_address_the_words_are_kept_and_the_next_reply_with_one_opens_the_ticket(district):
    _, reply = district.say("路灯坏了好几天了，晚上出门看不见")
    assert count(Ticket) == 0
    assert "不用重写" in reply["Content"] and "湛山路5号" in reply["Content"] and "/h5/shinan/report" in reply["Content"]
    assert db.session.scalars(select(Resident)).one().pending_note == "路灯坏了好几天了，晚上出门看不见"
    _, reply = district.say("湛山路5号")
    [ticket] = _tickets()
    assert ticket.community.code == "yanchenglu" and ticket.description == "路灯坏了好几天了，晚上出门看不见\n湛山路5号"
    assert ticket.address == "湛山路5号" and ticket.number in reply["Content"]
    assert db.session.scalars(select(Resident)).one().pending_note is None
    district.say("谢谢")
    assert count(Ticket) == 1


def test_a_road_of_two_communities_gets_a_short_list_and_the_number_picked_opens_the_ticket(district):
    _, reply = district.say("湛山路的路灯坏了")
    assert count(Ticket) == 0
    text = reply["Content"]
    assert "1 盐城路社区" in text and "2 福州路社区" in text and "香港花园社区" not in text
    _, reply = district.say("2")
    [ticket] = _tickets()
    assert ticket.community.code == "fuzhoulu" and ticket.description == "湛山路的路灯坏了"
    assert ticket.number in reply["Content"]
    district.say("2")  # the list is used up: a bare number is no pick any more, opens nothing, is not kept
    assert count(Ticket) == 1 and db.session.scalars(select(Resident)).one().pending_note is None


def test_the_qr_code_followed_tells_the_community(district):
    district.post(district.message("event", Event="subscribe", EventKey="qrscene_xiangganghuayuan"))
    district.say("楼道灯坏了")
    [ticket] = _tickets()
    assert ticket.community.code == "xiangganghuayuan" and ticket.description == "楼道灯坏了"
    _, reply = district.say("湛山路5号井盖丢了")  # an address in the words still wins
    assert _tickets()[1].community.code == "yanchenglu"


def test_the_label_of_the_location_sent_tells_the_community(district):
    district.post(district.message("location", Location_X="36.06", Location_Y="120.38", Scale="15",
                                   Label="山东省青岛市市南区湛山路66号"))
    district.say("这里的垃圾好几天没人清了")
    [ticket] = _tickets()
    assert ticket.community.code == "fuzhoulu" and ticket.latitude == 36.06


def test_the_h5_form_opens_with_the_words_kept_and_a_short_list(app, wechat_api, district, org):
    district.say("湛山路的路灯坏了", openid="o_district_h5")
    person = ResidentPhone(app, code="shinan", openid="o_district_h5")
    assert person.sign_in().status_code == 302
    form = page_text(person.client.get("/h5/shinan/report"))
    assert ">湛山路的路灯坏了</textarea>" in form
    assert 'value="yanchenglu"' in form and 'value="fuzhoulu"' in form and 'value="xiangganghuayuan"' not in form
    assert '<select id="community"' not in form  # the 65-item list is not first
    found = page_text(person.client.get("/h5/shinan/report", query_string={
        "find": "香港花园", "description": "湛山路的路灯坏了（改过）", "phone": "13800001111"}))
    assert 'value="xiangganghuayuan" checked' in found and ">湛山路的路灯坏了（改过）</textarea>" in found
    assert 'value="13800001111"' in found
    none = page_text(person.client.get("/h5/shinan/report", query_string={"find": "火星路"}))
    assert "没有找到“火星路”" in none and '<select id="community"' in none
    number = person.report("湛山路的路灯坏了", community="fuzhoulu")
    ticket = db.session.scalars(select(Ticket).where(Ticket.number == number)).one()
    assert ticket.community.code == "fuzhoulu" and ticket.description == "湛山路的路灯坏了"
    assert db.session.scalars(select(Resident).where(Resident.openid == "o_district_h5",
                                                     Resident.account_code == "shinan")).one().pending_note is None


def test_the_h5_form_finds_the_community_from_the_address_typed(app, wechat_api, district_account, places, org):
    person = ResidentPhone(app, code="shinan", openid="o_district_typed")
    person.sign_in()
    number = person.report("楼道灯坏了", address="湛山路60号2单元")
    assert db.session.scalars(select(Ticket).where(Ticket.number == number)).one().community.code == "fuzhoulu"


def test_find_keeps_the_longest_road_and_the_range_that_holds_the_number(places, org):
    assert gazetteer.find("湛山三路9号").community.code == "yanchenglu"  # not 湛山路
    assert gazetteer.find("湛山路49号").community.code == "yanchenglu"
    assert gazetteer.find("湛山路50号").community.code == "fuzhoulu"
    assert gazetteer.find("湛山路５号").community.code == "yanchenglu"  # full-width digits
    assert [c.code for c in gazetteer.find("湛山路").candidates] == ["yanchenglu", "fuzhoulu"]
    assert gazetteer.find("福州路社区的路灯").community.code == "fuzhoulu"
    assert gazetteer.find("灯坏了") == gazetteer.Found(None, [])


# ---- the console page ----

@pytest.fixture
def admin(client, org):
    login(client, "admin")
    return client


def _add(admin, **fields):
    form = {"csrf_token": csrf_from(admin, PAGE), "community": "yanchenglu", "name": "", "first": "", "last": "",
            "parity": "all", **fields}
    return admin.post(PAGE, data=form)


def test_the_admin_adds_and_removes_a_road_with_a_number_range(admin, org):
    response = _add(admin, name="湛山路", first="1", last="49号")
    assert response.status_code == 302
    row = db.session.scalars(select(PlaceName)).one()
    assert (row.community_id, row.name, row.first, row.last, row.parity) == (org.c1.id, "湛山路", 1, 49, "all")
    page = page_text(admin.get(PAGE + "?community=yanchenglu"))
    assert "已把「湛山路 1–49号」加入盐城路社区" in page and "1–49号" in page
    assert _add(admin, community="fuzhoulu", name="湛山路", first="50").status_code == 302
    assert gazetteer.find("湛山路88号").community.code == "fuzhoulu"
    token = csrf_from(admin, PAGE)
    assert admin.post(f"{PAGE}/{row.id}/delete", data={"csrf_token": token}).status_code == 302
    assert count(PlaceName) == 1 and "已从盐城路社区删除" in page_text(admin.get(PAGE))
    assert admin.post(f"{PAGE}/{row.id}/delete", data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize("fields, message", [
    ({"name": ""}, "请填写路名或小区名"),
    ({"name": "湛山路<b>"}, "路名只能是汉字、数字或字母"),
    ({"name": "湛山路", "first": "abc"}, "起始门牌号请填 1 到 99999 之间的整数"),
    ({"name": "湛山路", "first": "50", "last": "10"}, "结束门牌号不能小于起始门牌号"),
    ({"name": "湛山路", "parity": "prime"}, "请选择全部门牌、单号或双号"),
    ({"name": "湛山路", "community": ""}, "请选择这条路属于哪个社区"),
    ({"name": "香港中路", "first": "5", "last": "9"}, "香港中路的这段门牌已划给香港花园社区"),
    ({"name": "古田路", "position": "古田路"}, "位置请写成「纬度, 经度」"),
    ({"name": "古田路", "position": "136.06, 120.38"}, "位置请写成「纬度, 经度」"),
])
def test_a_bad_row_is_refused_in_chinese_and_keeps_what_was_typed(admin, places, fields, message):
    before = count(PlaceName)
    response = _add(admin, **fields)
    page = page_text(response)
    assert response.status_code == 422 and message in page and count(PlaceName) == before
    if fields.get("name"):
        assert f'value="{fields["name"]}"'.replace("<", "&lt;").replace(">", "&gt;") in page


def test_a_place_may_carry_a_position_that_an_address_then_resolves_to(admin, org):
    assert _add(admin, name="古田路", first="1", last="30", position="36.0601，120.3801").status_code == 302
    assert _add(admin, name="古田路", first="31", position="").status_code == 302
    assert "已标注" in page_text(admin.get(PAGE))
    found = gazetteer.locate("古田路16号3号楼")
    assert (found.label, found.latitude, found.longitude) == ("古田路16号", 36.0601, 120.3801)
    assert gazetteer.locate("古田路40号").label == "古田路40号"  # the road's other row has no position: the known one
    assert gazetteer.locate("火星路1号") is None


def test_an_odd_and_an_even_side_of_one_road_may_go_to_two_communities(admin, org):
    assert _add(admin, name="古田路", parity="odd").status_code == 302
    assert _add(admin, community="fuzhoulu", name="古田路", parity="even").status_code == 302
    assert _add(admin, community="xiangganghuayuan", name="古田路", first="3", last="3").status_code == 422


def test_only_the_district_admin_edits_the_gazetteer(client, org):
    login(client, "director")
    assert client.get(PAGE).status_code == 403
