"""Categories as Open311 services: their groups and the extra questions (attributes) each one asks.

Plain data only, like tickets/category_seed.py. A category added later by an admin is a service too, in the
group 其他 and with no attributes (metadata false).
"""
from dataclasses import dataclass, field

@dataclass(frozen=True)
class Attribute:
    """One question of a service definition; `variable` False means information shown, not asked."""

    code: str
    datatype: str
    description: str
    label: str = ""  # how staff read the answer in the ticket's description; the code's meaning in a word
    required: bool = False
    variable: bool = True
    datatype_description: str | None = None
    values: tuple = field(default=())  # (key, name) pairs for the list datatypes

    def names(self):
        """{key: name} of the allowed values."""
        return dict(self.values)


YES_NO_HOME = (("yes", "有人在家"), ("no", "家里没人，请先电话联系"))

FLOOR = Attribute("floor", "number", "在几楼（地下室填 -1）", "楼层", datatype_description="整数，如 3")
BUILDING_UNIT = Attribute("building_unit", "string", "楼号和单元", "楼号单元", datatype_description="如：3号楼2单元")
SOMEONE_HOME = Attribute("someone_home", "singlevaluelist", "上门时家里是否有人", "上门", required=True,
                         values=YES_NO_HOME)
VISIT_TIME = Attribute("visit_time", "datetime", "方便上门的时间", "方便上门",
                       datatype_description="ISO 8601 时间，如 2026-11-22T09:00:00+08:00")
LIGHT_KIND = Attribute("light_kind", "singlevaluelist", "哪种灯", "灯",
                       values=(("stairwell", "楼道灯"), ("street", "路灯"), ("yard", "庭院灯")))
SANITATION_PROBLEM = Attribute(
    "problem", "multivaluelist", "问题（可多选）", "问题", required=True,
    values=(("garbage", "垃圾没有清运"), ("clutter", "楼道堆放杂物"), ("sewage", "污水外溢"), ("smell", "异味"),
            ("pests", "蚊蝇鼠蟑")))
LIVES_ALONE = Attribute("lives_alone", "singlevaluelist", "老人是否独居", "独居",
                        values=(("yes", "独居"), ("no", "与家人同住")))
GAS_SAFETY = Attribute("gas_safety", "text", "闻到燃气味时：请立即开窗通风，不要开关电器、不要在室内打电话，"
                       "到室外后拨打燃气公司抢修电话或 119。", variable=False)
EMERGENCY = Attribute("emergency", "text", "火情、盗窃、人身危险等紧急情况请立即拨打 110 或 119，不要只在这里提交。",
                      variable=False)

# The questions per category code, in the order they are asked.
ATTRIBUTES = {
    "water_power": (BUILDING_UNIT, FLOOR, SOMEONE_HOME, VISIT_TIME),
    "gas_heating": (GAS_SAFETY, BUILDING_UNIT, FLOOR, SOMEONE_HOME, VISIT_TIME),
    "lighting": (LIGHT_KIND, BUILDING_UNIT, FLOOR),
    "sanitation": (SANITATION_PROBLEM, BUILDING_UNIT),
    "appliance": (SOMEONE_HOME, VISIT_TIME),
    "elderly_care": (LIVES_ALONE, BUILDING_UNIT, FLOOR),
    "property": (BUILDING_UNIT, FLOOR),
    "public_security": (EMERGENCY, BUILDING_UNIT),
}

GROUPS = {
    "water_power": "维修服务", "gas_heating": "维修服务", "lighting": "维修服务", "appliance": "维修服务",
    "sanitation": "环境市容", "city_management": "环境市容",
    "property": "物业与邻里", "neighbour": "物业与邻里",
    "elderly_care": "为老服务", "public_security": "治安消防",
    "consultation": "咨询建议", "suggestion": "咨询建议", "other": "咨询建议",
}
DEFAULT_GROUP = "其他"
# How many of a category's keywords describe it (the heaviest first).
KEYWORDS_SHOWN = 8


def attributes_of(code):
    """The questions a service asks (empty for a service without metadata)."""
    return ATTRIBUTES.get(code, ())


def group_of(code):
    """The group a service is listed under."""
    return GROUPS.get(code, DEFAULT_GROUP)


def top_keywords(keywords):
    """A category's heaviest keywords, heaviest first (as written among equals), for its keywords and description."""
    ranked = sorted((keywords or {}).items(), key=lambda item: -item[1])
    return [word for word, _ in ranked[:KEYWORDS_SHOWN]]
