"""The gazetteer: which community a road and house number (湛山路5号) or a 小区 name lies in.

The district account has no community of its own; a resident's words, or the label of the location they sent,
name a place, and the place names here tell the community. Admins keep the rows in the console."""
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select

from dispatch.errors import Invalid
from dispatch.extensions import db
from dispatch.intake.models import PlaceName
from dispatch.org.models import Community

PARITIES = {"all": "全部门牌", "odd": "单号", "even": "双号"}
# A house number straight after the name: 5号, 5 号, 10-1号 (its first part), 8号院, 3号楼.
NUMBER_AFTER = re.compile(r"[ \t\u3000]*(\d{1,5})(?:[-－]\d{1,4})?[ \t\u3000]*号")
MAX_NUMBER = 99999
SHORT_LIST = 5


@dataclass
class Found:
    """What the words say about the community: the one it must be, or those it may be (a short list)."""

    community: Community | None
    candidates: list


def _holds(row, number):
    """Whether a row's range holds a house number (a row without a range holds every number of its road)."""
    if row.first is not None and number < row.first:
        return False
    if row.last is not None and number > row.last:
        return False
    return row.parity == "all" or (number % 2 == 1) == (row.parity == "odd")


def _mentions(text, names):
    """(name, house number or None) for each place name in the text, longest names first, none inside another."""
    taken, found = [], []
    for name in sorted(names, key=len, reverse=True):
        for match in re.finditer(re.escape(name), text):
            span = range(match.start(), match.end())
            if any(start < span.stop and span.start < stop for start, stop in taken):
                continue
            taken.append((span.start, span.stop))
            number = NUMBER_AFTER.match(text, match.end())
            found.append((match.start(), name, int(number.group(1)) if number else None))
    return [(name, number) for _, name, number in sorted(found)]


def _communities(ids):
    by_id = {c.id: c for c in db.session.scalars(select(Community).where(Community.id.in_(ids)))}
    return [by_id[i] for i in ids if i in by_id]


def find(text):
    """The community the words point to: the range of the road that holds the house number, the only community
    with the road or 小区, or a community named outright; else a short list of those they may mean."""
    text = unicodedata.normalize("NFKC", text or "")
    if not text.strip():
        return Found(None, [])
    rows = db.session.scalars(select(PlaceName).order_by(PlaceName.id)).all()
    by_name = {}
    for row in rows:
        by_name.setdefault(row.name, []).append(row)
    named = [c for c in db.session.scalars(select(Community).order_by(Community.id))
             if c.name in text or (len(c.name) > 4 and c.name.removesuffix("社区") in text)]
    if len(named) == 1 and named[0].name in text:
        return Found(named[0], named)
    candidates = []
    for name, number in _mentions(text, by_name):
        owners = list(dict.fromkeys(row.community_id for row in by_name[name]))
        holding = list(dict.fromkeys(row.community_id for row in by_name[name]
                                     if number is not None and _holds(row, number)))
        if len(holding) == 1 or len(owners) == 1:
            return Found(_communities(holding if len(holding) == 1 else owners)[0], [])
        candidates += [i for i in (holding or owners) if i not in candidates]
    candidates = [c.id for c in named if c.id not in candidates] + candidates
    return Found(None, _communities(candidates[:SHORT_LIST]))


def search(query, limit=8):
    """Communities for the H5 form's search box: by road or 小区 name, or by the community's own name."""
    query = unicodedata.normalize("NFKC", query or "").strip()
    if not query:
        return []
    found = find(query)
    if found.community is not None:
        return [found.community]
    if found.candidates:
        return found.candidates
    like = f"%{query[:30]}%"
    ids = db.session.scalars(select(PlaceName.community_id).where(PlaceName.name.like(like))).all()
    ids += db.session.scalars(select(Community.id).where(Community.name.like(like))).all()
    return _communities(list(dict.fromkeys(ids))[:limit])


@dataclass
class Located:
    """Where an address is: the place as read (古田路16号), the gazetteer row's position and community."""

    label: str
    latitude: float
    longitude: float
    community_id: int


def locate(text):
    """The position of an address from the gazetteer: the row of its road that holds its house number (else any
    row of that road) or its 小区, among rows that have a position; None when no such row is named."""
    text = unicodedata.normalize("NFKC", text or "")
    by_name = {}
    for row in db.session.scalars(select(PlaceName).order_by(PlaceName.id)):
        by_name.setdefault(row.name, []).append(row)
    for name, number in _mentions(text, by_name):  # every name counts, so 盐城路小区 is never read as 盐城路
        placed = [row for row in by_name[name] if row.latitude is not None and row.longitude is not None]
        if not placed:
            continue
        holding = [row for row in placed if number is not None and _holds(row, number)]
        row = (holding or placed)[0]
        label = f"{name}{number}号" if number is not None else name
        return Located(label, row.latitude, row.longitude, row.community_id)
    return None


def place_names_near(community_ids):
    """The names of places with a position, the given communities' first, for a form's pick list."""
    rows = db.session.execute(select(PlaceName.name, PlaceName.community_id).where(
        PlaceName.latitude.is_not(None)).order_by(PlaceName.name)).all()
    own = [name for name, community in rows if community in community_ids]
    return list(dict.fromkeys(own + [name for name, _ in rows]))


# ---- the console page ----

def places_by_community(communities):
    """{community id: [rows]} for the admin page, in road and number order."""
    rows = db.session.scalars(select(PlaceName).where(PlaceName.community_id.in_([c.id for c in communities]))
                              .order_by(PlaceName.name, PlaceName.first)).all()
    grouped = {c.id: [] for c in communities}
    for row in rows:
        grouped[row.community_id].append(row)
    return grouped


def _number(raw, label, errors, key):
    raw = unicodedata.normalize("NFKC", raw or "").strip().removesuffix("号")
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_NUMBER:
        errors[key] = f"{label}请填 1 到 {MAX_NUMBER} 之间的整数，例如 1 或 49"
        return None
    return int(raw)


POSITION = re.compile(r"(-?\d{1,3}(?:\.\d+)?)\s*[,，\s]\s*(-?\d{1,3}(?:\.\d+)?)")


def _position(raw, errors):
    """An optional '36.0601, 120.3801' (latitude, longitude, as a map copies them) → (lat, lng) or (None, None)."""
    raw = unicodedata.normalize("NFKC", raw or "").strip()
    if not raw:
        return None, None
    match = POSITION.fullmatch(raw)
    latitude, longitude = (float(match.group(1)), float(match.group(2))) if match else (None, None)
    if match is None or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        errors["position"] = "位置请写成「纬度, 经度」，例如 36.0601, 120.3801（青岛市南区一带纬度约 36，经度约 120）"
        return None, None
    return latitude, longitude


def overlapping(name, first, last, parity, exclude_community=None):
    """Rows of the same road in another community whose range meets this one (same parity or either 'all')."""
    low, high = first or 1, last or MAX_NUMBER
    rows = db.session.scalars(select(PlaceName).where(PlaceName.name == name)).all()
    return [row for row in rows if row.community_id != exclude_community
            and (row.first or 1) <= high and low <= (row.last or MAX_NUMBER)
            and (parity == "all" or row.parity == "all" or row.parity == parity)]


def add_place(community, form):
    """A new row from the admin form; raises Invalid with a Chinese message per field."""
    errors = {}
    name = re.sub(r"\s+", "", unicodedata.normalize("NFKC", form.get("name") or ""))
    if not name:
        errors["name"] = "请填写路名或小区名，例如 湛山路"
    elif len(name) > 64 or not re.fullmatch(r"[\u4e00-\u9fff0-9A-Za-z·]+", name):
        errors["name"] = "路名只能是汉字、数字或字母，64 个字以内，例如 湛山路、延安三路、香港花园"
    first = _number(form.get("first"), "起始门牌号", errors, "first")
    last = _number(form.get("last"), "结束门牌号", errors, "last")
    parity = form.get("parity") or "all"
    if parity not in PARITIES:
        errors["parity"] = "请选择全部门牌、单号或双号"
    if first is not None and last is not None and first > last:
        errors["last"] = "结束门牌号不能小于起始门牌号"
    latitude, longitude = _position(form.get("position"), errors)
    if not errors:
        clash = overlapping(name, first, last, parity, exclude_community=community.id)
        if clash:
            other = db.session.get(Community, clash[0].community_id)
            errors["first"] = f"{name}的这段门牌已划给{other.name}（{describe(clash[0])}），请先调整那边的范围"
        elif any(row.community_id == community.id and row.first == first and row.last == last
                 and row.parity == parity for row in db.session.scalars(
                     select(PlaceName).where(PlaceName.name == name))):
            errors["name"] = f"{community.name}已经有这一条：{name}"
    if errors:
        raise Invalid("地名填写有误", fields={key: [message] for key, message in errors.items()})
    row = PlaceName(community_id=community.id, name=name, first=first, last=last, parity=parity,
                    latitude=latitude, longitude=longitude)
    db.session.add(row)
    db.session.commit()
    return row


def describe(row):
    """1–49号, 50号及以后, 全部门牌（单号）: a row's numbers as the console shows them."""
    if row.first is None and row.last is None:
        numbers = "全部门牌"
    else:
        numbers = f"{row.first}号及以后" if row.last is None else f"{row.first or 1}–{row.last}号"
    return numbers + ("" if row.parity == "all" else f"（{PARITIES[row.parity]}）")
