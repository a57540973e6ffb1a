"""The skills a 365 volunteer can offer, and what each category needs (plain data, no Flask)."""

SKILLS = {
    "electrical": "电工维修",
    "plumbing": "水暖维修",
    "appliance": "家电维修",
    "phone_help": "手机帮教",
    "haircut": "理发",
    "elderly_care": "助老陪护",
    "cleaning": "保洁清扫",
    "errands": "代办跑腿",
}

# Seeded skills per category; directors may change them in the console. No entry: anyone may take it.
CATEGORY_SKILLS = {
    "water_power": ("plumbing", "electrical"),
    "lighting": ("electrical",),
    "appliance": ("appliance",),
    "elderly_care": ("elderly_care",),
    "sanitation": ("cleaning",),
}

# Why a department sends a ticket back (退单): the list the desk offers, free text beside it.
RETURN_REASONS = (
    "不属于本单位职责",
    "地址或联系方式不全，无法办理",
    "已由其他单位处理",
    "重复工单",
    "其他",
)

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def skill_labels(codes):
    """The Chinese names of skill codes, unknown codes as they are."""
    return [SKILLS.get(code, code) for code in codes]
