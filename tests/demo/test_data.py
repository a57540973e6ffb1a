"""Checks on the demo data: counts, codes, references between tables, and message labels."""

import collections
import re

import pytest

from dispatch.demo import data

CATEGORY_CODES = {
    "water_power", "gas_heating", "lighting", "sanitation", "appliance", "elderly_care",
    "property", "public_security", "city_management", "neighbour", "consultation",
    "suggestion", "other",
}
PRIORITIES = {"urgent", "high", "normal", "low"}
SLUG = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
PHONE = re.compile(r"^0532-8\d{7}$")
STREET_NAMES = {
    "八大峡街道", "云南路街道", "中山路街道", "江苏路街道", "八大关街道",
    "湛山街道", "香港中路街道", "八大湖街道", "金门路街道", "珠海路街道",
}
NAMED_COMMUNITIES = {
    "盐城路社区": "湛山街道",
    "香港花园社区": "珠海路街道",
    "金口路社区": "八大关街道",
    "吴兴路社区": "八大湖街道",
    "高邮湖路社区": "八大湖街道",
    "逍遥路社区": "金门路街道",
    "泰安路社区": "中山路街道",
    "团岛路社区": "八大峡街道",
    "汶铁社区": "八大峡街道",
}


def _street_name_by_code():
    return {s["code"]: s["name"] for s in data.STREETS}


def test_district():
    assert data.DISTRICT == {"code": "370202", "name": "市南区"}


def test_exactly_ten_streets_with_the_real_names():
    assert len(data.STREETS) == 10
    assert {s["name"] for s in data.STREETS} == STREET_NAMES
    assert all(set(s) == {"code", "name"} for s in data.STREETS)


def test_exactly_65_communities_with_all_fields():
    assert len(data.COMMUNITIES) == 65
    fields = {"code", "name", "street", "phone", "address"}
    assert all(set(c) == fields for c in data.COMMUNITIES)
    assert all(c["address"] and c["name"].endswith("社区") for c in data.COMMUNITIES)


@pytest.mark.parametrize("table", ["STREETS", "COMMUNITIES", "DEPARTMENTS"])
def test_codes_unique_and_slug_shaped(table):
    codes = [row["code"] for row in getattr(data, table)]
    assert len(codes) == len(set(codes)), collections.Counter(codes).most_common(3)
    bad = [c for c in codes if not SLUG.match(c)]
    assert not bad


@pytest.mark.parametrize("table", ["STREETS", "COMMUNITIES", "DEPARTMENTS"])
def test_names_unique(table):
    names = [row["name"] for row in getattr(data, table)]
    assert len(names) == len(set(names))


def test_every_community_street_exists_and_each_street_has_5_to_8():
    streets = _street_name_by_code()
    assert all(c["street"] in streets for c in data.COMMUNITIES)
    per_street = collections.Counter(c["street"] for c in data.COMMUNITIES)
    assert set(per_street) == set(streets)
    assert all(5 <= n <= 8 for n in per_street.values()), per_street


def test_named_communities_sit_under_the_right_streets():
    streets = _street_name_by_code()
    by_name = {c["name"]: streets[c["street"]] for c in data.COMMUNITIES}
    for community, street in NAMED_COMMUNITIES.items():
        assert by_name.get(community) == street, community


def test_community_phones_distinct_and_well_formed():
    phones = [c["phone"] for c in data.COMMUNITIES]
    assert len(phones) == len(set(phones))
    assert all(PHONE.match(p) for p in phones), [p for p in phones if not PHONE.match(p)]


def test_department_categories_valid():
    assert data.DEPARTMENTS
    for dept in data.DEPARTMENTS:
        assert set(dept) == {"code", "name", "categories"}
        assert dept["categories"], dept["code"]
        assert set(dept["categories"]) <= CATEGORY_CODES, dept["code"]


def test_module_constants_match_the_category_and_priority_codes():
    assert set(data.CATEGORY_CODES) == CATEGORY_CODES
    assert set(data.PRIORITIES) == PRIORITIES


def test_message_shapes_and_labels():
    messages = data.RESIDENT_MESSAGES
    assert len(messages) >= 160
    assert all(len(m) == 3 for m in messages)
    assert all(category in CATEGORY_CODES for _, category, _ in messages)
    assert all(priority in PRIORITIES for _, _, priority in messages)
    assert all(10 <= len(text) <= 120 for text, _, _ in messages)
    texts = [text for text, _, _ in messages]
    assert len(texts) == len(set(texts))


def test_every_category_but_other_has_five_messages():
    counts = collections.Counter(category for _, category, _ in data.RESIDENT_MESSAGES)
    for code in CATEGORY_CODES - {"other"}:
        assert counts[code] >= 5, (code, counts[code])
    assert 1 <= counts["other"] <= 10


def test_priority_mix_is_realistic():
    counts = collections.Counter(p for _, _, p in data.RESIDENT_MESSAGES)
    total = len(data.RESIDENT_MESSAGES)
    assert 0.03 <= counts["urgent"] / total <= 0.08
    assert 0.15 <= counts["high"] / total <= 0.25
    consult = [p for _, c, p in data.RESIDENT_MESSAGES if c in ("consultation", "suggestion")]
    assert "urgent" not in consult


def test_people_and_addresses():
    assert len(data.VOLUNTEER_NAMES) == 60
    assert len(set(data.VOLUNTEER_NAMES)) == 60
    assert all(2 <= len(n) <= 4 for n in data.VOLUNTEER_NAMES)
    assert len(data.STREET_ADDRESSES) >= 40
    assert len(set(data.STREET_ADDRESSES)) == len(data.STREET_ADDRESSES)
    assert all(re.search(r"路\d+号", a) for a in data.STREET_ADDRESSES)


def test_notes_reasons_and_comments():
    assert set(data.RESOLUTION_NOTES) == CATEGORY_CODES
    assert all(3 <= len(notes) <= 5 for notes in data.RESOLUTION_NOTES.values())
    assert 5 <= len(data.RETURN_REASONS) <= 8
    assert len(data.COMMENTS) == 15
    assert len(set(data.COMMENTS)) == 15
