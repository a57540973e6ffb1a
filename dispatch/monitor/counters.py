"""Pure: what the monitor counts and how its rates divide, each defined once.

A measure is a set of tickets, stated as conditions on a ticket's fact row (monitor/facts.py); a counter is a
measure the rollup and every figure add up. From this one table come the Python count of a fact (counts_of,
below), the SQL the rollup and the figures run (monitor/refresh.py renders the same conditions over
ticket_facts), the lists behind each figure, and the formulas the pages print. No Flask and no database here.
"""
from dataclasses import dataclass

from dispatch.tickets.rating_scale import RATINGS, SATISFIED

# How a condition (fact field, operator, value) tests a fact's value; refresh.SQL_OPERATORS says the same in SQL.
OPERATORS = {
    "is": lambda value, wanted: value == wanted,  # True, False or None, as SQL's IS
    "is not": lambda value, wanted: value != wanted,
    "in": lambda value, wanted: value in wanted,
    ">": lambda value, wanted: value is not None and value > wanted,  # NULL > n is not true in SQL either
}
VALID = ("valid", "is", True)  # 作废 and 合并 tickets are no one's work: outside every rate
NOT_SATISFIED = tuple(rating for rating in RATINGS if rating not in SATISFIED)


@dataclass(frozen=True)
class Measure:
    """A set of tickets: the facts meeting all its conditions (none: every ticket), and what people call it."""

    label: str  # its name on the pages and in exports
    conditions: tuple = ()
    in_words: str | None = None  # how a formula names these tickets, where the label is too short
    counter: bool = True  # added up by the rollup and every figure; else only listed
    listed: bool = True  # a page may list its tickets

    @property
    def words(self):
        """The measure as a formula names it."""
        return self.in_words or self.label


def of_valid(*conditions):
    """Conditions on a valid ticket: every counter but 全部工单 counts valid tickets only."""
    return (VALID, *conditions)


def named(ratings):
    """The ratings' names joined as people say them (满意或基本满意)."""
    return "或".join(RATINGS[rating] for rating in ratings)


# Every measure, in the order the pages offer them; the counters keep the rollup's column order.
MEASURES = {
    "created": Measure("全部工单"),
    "valid": Measure("有效工单", of_valid()),
    "invalid": Measure("作废或合并", (("valid", "is", False),), counter=False),
    "responded": Measure("已响应", of_valid(("responded", "is", True)), listed=False),
    "responded_on_time": Measure("按时响应", of_valid(("responded_on_time", "is", True)), in_words="按时响应的工单"),
    "not_responded_on_time": Measure("未按时响应", of_valid(("responded_on_time", "is", False)), counter=False),
    "resolved": Measure("已解决", of_valid(("resolved", "is", True)), in_words="现在已办结或已关闭的工单"),
    "unresolved": Measure("未解决", of_valid(("resolved", "is", False)), counter=False),
    "resolved_on_time": Measure("按时办结", of_valid(("resolved_on_time", "is", True)),
                                in_words="最近一次办结不晚于办结时限、现在仍为已办结或已关闭的工单"),
    "rated": Measure("已评价", of_valid(("rating", "is not", None)), in_words="已评价的有效工单"),
    "satisfied": Measure(named(SATISFIED), of_valid(("rating", "in", SATISFIED)), in_words=f"{named(SATISFIED)}的工单"),
    "unsatisfied": Measure(named(NOT_SATISFIED), of_valid(("rating", "in", NOT_SATISFIED)), counter=False),
    "reopened": Measure("重办过", of_valid(("reopenings", ">", 0)), in_words="至少重办过一次的工单"),
    "returned": Measure("退单过", of_valid(("returns", ">", 0))),
    "extended": Measure("申请过延期", of_valid(("extensions", ">", 0))),
}
COUNTERS = {name: measure for name, measure in MEASURES.items() if measure.counter}
DAILY_COUNTS = tuple(COUNTERS)  # the rollup's columns
LISTED = {name: measure for name, measure in MEASURES.items() if measure.listed}


@dataclass(frozen=True)
class Rate:
    """A rate: one counter divided by another (both counts of tickets, so each side links to its list)."""

    label: str
    numerator: str
    denominator: str
    note: str = ""  # what the formula adds in words

    @property
    def formula(self):
        """The rate stated in Chinese, as the pages and exports print it."""
        top, bottom = MEASURES[self.numerator].words, MEASURES[self.denominator].words
        return f"{self.label} = {top} ÷ {bottom}。{self.note}"


RATE_DEFINITIONS = {
    "response_rate": Rate("响应率", "responded_on_time", "valid",
                          "响应指第一次受理、办结、作废或合并，按时指不晚于工单的响应时限（暂停和批准的延期已计入时限）；"
                          "没有时限的工单，响应即算按时。"),
    "resolution_rate": Rate("解决率", "resolved", "valid", "重办后尚未再次办结的不算解决。"),
    "satisfaction_rate": Rate("满意率", "satisfied", "rated", "评价取最近一次：居民自评，或回访时记录的满意度。"),
    "on_time_resolution_rate": Rate("按时办结率", "resolved_on_time", "valid"),
    "reopen_rate": Rate("重办率", "reopened", "valid", "重办计入工单所在社区。"),
}
RATES = {name: (r.numerator, r.denominator) for name, r in RATE_DEFINITIONS.items()}
RATE_LABELS = {name: r.label for name, r in RATE_DEFINITIONS.items()}
# Why a median can read 0: the clock counts working time only.
UNDER_A_TENTH = ("夜间、周末或节假日提交、上班后很快响应的工单，工作时间用时为 0，页面显示为「不足 0.1」："
                 "居民实际等到了上班时间，并非即时响应。")
FORMULAS = {
    **{name: r.formula for name, r in RATE_DEFINITIONS.items()},
    "valid": "有效工单 = 统计期内（按北京时间的创建日期）创建、未作废也未合并的工单。",
    "hours": "响应用时、办结用时按工作时间计（社区办公时间和法定工作日），从创建到第一次响应、到最近一次办结；"
             "中位数和 90 分位数只计有该时间的工单（括号里是件数）。" + UNDER_A_TENTH,
    "overdue": "当前超时 = 现在未办结、未暂停，且已过办结时限，或已过响应时限仍未响应的工单（不限统计期）。",
}


def holds(measure, fact):
    """Whether a fact (a mapping of its fields) belongs to a measure."""
    return all(OPERATORS[operator](fact[field], value) for field, operator, value in measure.conditions)


def counts_of(fact):
    """What one fact adds to each counter of the rollup (and of any figure)."""
    return {name: int(holds(counter, fact)) for name, counter in COUNTERS.items()}


def rate(numerator, denominator):
    """A percentage with one decimal, or None when there is nothing to divide by."""
    return round(100 * numerator / denominator, 1) if denominator else None


def rates(counts):
    """The rates of a set of counters."""
    return {name: rate(counts.get(top, 0), counts.get(bottom, 0)) for name, (top, bottom) in RATES.items()}
