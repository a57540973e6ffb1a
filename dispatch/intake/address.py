"""The street address in a resident's message (古田路16号3号楼2单元3楼), found with a few regular expressions."""
import re

CJK = r"\u4e00-\u9fff"
# A number as residents type it: ASCII or full-width digits, or Chinese numerals (二单元, 三楼). Bounded,
# so a long run of digits (a phone or order number) costs little and never reads as an address number.
NUM = r"(?:[0-9０-９]{1,5}|[零〇一二两三四五六七八九十百]{1,5})"
# Residents sometimes put spaces between the parts; they are allowed there and dropped from the result.
GAP = r"[ \t\u3000]*"
# The end of a road's name.
SUFFIX = r"(?:大道|大街|胡同|路|街|巷|弄)"
# 楼 starting 楼道, 楼梯, 楼下, 楼上 is that word, not "building": "10号楼道灯" stops at 10号.
BUILDING_LOU = r"楼(?![道梯下上])"
# House number: 16号, 10-1号, 10号甲 (not 甲醛), 8号院, or 3号楼 straight after the road.
HOUSE = rf"{NUM}(?:[-－]{NUM})?号(?:{BUILDING_LOU}|院|[甲乙丙丁](?!醛))?"
# Building: 3号楼, 2栋, 5幢, A座, 3#楼.
BUILDING = rf"(?:{NUM}|[A-Za-zＡ-Ｚａ-ｚ甲乙丙丁])(?:号{BUILDING_LOU}|#楼?|栋|幢|座)"
UNIT = rf"(?:{NUM}|[东西南北中A-Za-z])单元"
FLOOR = rf"{NUM}[楼层]"
# Room: 502室, 301户, 2号, or a bare 301 / 1202 that is not a count, a date, a price or a phone number;
# digits only, since 一户 / 两户 are households, not rooms.
ROOM = r"(?:[0-9０-９]{1,5}(?:室|户|号(?!楼))|\d{3,4}(?![\d个多余来天年月日号次元块万千米平点分岁人位名斤只条层楼路]))"
# Building-unit-room written with dashes after the house number: 288号3-2-301.
DASHED = r"\d{1,3}[-－]\d{1,2}[-－]\d{3,4}(?!\d)"
# Whatever follows a building: each part optional, in the order addresses are written, and each
# part must be whole, so "3楼楼道灯坏了" ends at 3楼 and "2单元门口垃圾" at 2单元.
TAIL = rf"(?P<unit>{GAP}{UNIT})?(?:{GAP}{FLOOR})?(?:{GAP}{ROOM})?"

# From a road's suffix through its house number and whatever follows; the name is found backwards.
ROAD_FROM_SUFFIX = re.compile(rf"{SUFFIX}{GAP}{HOUSE}(?:{GAP}{DASHED}|(?:{GAP}{BUILDING})?{TAIL})")
# A building with no road before it; kept only with a unit after it or an estate name before it.
BUILDING_ONWARDS = re.compile(rf"(?<![0-9０-９]){BUILDING}{TAIL}")
# The Chinese characters right before a suffix or a building (延安3路: a digit may end a road's name).
NAME_BEFORE = re.compile(rf"[{CJK}]+(?:[0-9]{{1,2}}期?)?$")
# What residents write before an address (我家在, 家住, 反映一下, 市南区...): a name starts after the last one.
# Longer words come first, since at one position the first alternative wins (我家 before 我). 小区, 城市
# and 市场 are kept: 阳光小区, 城市花园 and 市场三路 are names.
LEAD_IN = re.compile(
    r"^.*(?:我家|我们|咱们|住址|地址|位于|反映|投诉|报修|举报|咨询|请问|麻烦|帮忙|看看|你好|您好|一下"
    r"|楼下|楼上|门口|对面|旁边|附近|街道|(?<!小)区|(?<!城)市(?!场)|[在住是的了我你您他她请到从对给把被让省县号])")
ROAD_NAME = re.compile(rf"[{CJK}]{{2,}}[0-9]{{0,2}}")
ESTATE_NAME = re.compile(
    rf"[{CJK}]+(?:花园|小区|家园|公寓|大厦|广场|新村|山庄|公馆|宿舍|苑|园|城|府|里|院)(?:{NUM}期)?")
# How far back a name is looked for: longer than any road or estate name.
NAME_WINDOW = 16


def extract_address(text):
    """The address in a message: road, number, building, unit, floor, room as far as given; None if there is none."""
    for match in ROAD_FROM_SUFFIX.finditer(text):
        name = _name_before(text, match.start(), ROAD_NAME)
        if name:
            return _tidy(name + match.group())
    for match in BUILDING_ONWARDS.finditer(text):
        estate = _name_before(text, match.start(), ESTATE_NAME)
        if estate or match.group("unit"):
            return _tidy(estate + match.group())
    return None


def _name_before(text, end, shape):
    """The name ending at end, without the words before it, if it has the shape; otherwise ""."""
    run = NAME_BEFORE.search(text, max(0, end - NAME_WINDOW), end)
    name = LEAD_IN.sub("", run.group(), count=1) if run else ""
    return name if shape.fullmatch(name) else ""


def _tidy(address):
    """The address without the spaces a resident typed between its parts."""
    return re.sub(r"[ \t\u3000]+", "", address)
