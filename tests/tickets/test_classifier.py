"""Tests for the keyword classifier that suggests a ticket's category and priority."""

import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # allow running the file without a conftest
    sys.path.insert(0, str(ROOT))

from dispatch.tickets import category_seed  # noqa: E402
from dispatch.tickets.classifier import (  # noqa: E402
    PRIORITIES,
    CategoryRule,
    Suggestion,
    classify,
    rules_from_seed,
)

from dispatch.demo.data import RESIDENT_MESSAGES  # noqa: E402

from .labelled_messages import LABELLED_MESSAGES  # noqa: E402

pytestmark = pytest.mark.pure

# Reached: category 100.0% (92/92), priority 90.2% (83/92). Priority fell from
# 94.6% when water/gas defaults became situational (a dripping tap is "normal"
# for the demo labeller, "high" here); the demo messages below are the honest test.
CATEGORY_ACCURACY_FLOOR = 0.95
PRIORITY_ACCURACY_FLOOR = 0.86

# The demo messages were labelled by someone else. Even half tuned the
# keywords; odd half was only measured, never inspected for misses.
TUNE_MESSAGES = RESIDENT_MESSAGES[0::2]
HELD_OUT_MESSAGES = RESIDENT_MESSAGES[1::2]
# Reached: tune category 98.0%, priority 79.8%; held-out category 78.6%, priority 57.1%
# (before this tuning: tune 75.8% / 57.6%, held-out 72.4% / 53.1%).
DEMO_FLOORS = {"tune": (0.94, 0.76), "held-out": (0.75, 0.53)}

EXPECTED_CATEGORIES = {
    "water_power": ("水电维修", "high"),
    "gas_heating": ("燃气暖气", "high"),
    "lighting": ("楼道及路灯", "normal"),
    "sanitation": ("环境卫生", "normal"),
    "appliance": ("家电及手机维修", "normal"),
    "elderly_care": ("助老服务", "normal"),
    "property": ("物业管理", "normal"),
    "public_security": ("治安消防", "high"),
    "city_management": ("市容市政", "normal"),
    "neighbour": ("邻里纠纷", "normal"),
    "consultation": ("政策咨询", "low"),
    "suggestion": ("意见建议", "low"),
    "other": ("其他", "normal"),
}
RANK = {p: i for i, p in enumerate(PRIORITIES)}


@pytest.fixture(scope="module")
def rules():
    return rules_from_seed()


# --- the labelled set itself ---------------------------------------------


def test_labelled_set_is_large_and_covers_every_category():
    counts = Counter(code for _, code, _ in LABELLED_MESSAGES)
    assert len(LABELLED_MESSAGES) >= 80
    for code in EXPECTED_CATEGORIES:
        assert counts[code] >= (3 if code == "other" else 4), code
    assert sum(p == "urgent" for _, _, p in LABELLED_MESSAGES) >= 8
    assert set(counts) <= set(EXPECTED_CATEGORIES)
    assert {p for _, _, p in LABELLED_MESSAGES} <= set(PRIORITIES)
    assert len({t for t, _, _ in LABELLED_MESSAGES}) == len(LABELLED_MESSAGES)


def test_accuracy_on_labelled_messages(rules, capsys):
    results = [(classify(t, rules), c, p) for t, c, p in LABELLED_MESSAGES]
    n = len(results)
    cat_ok = sum(s.category_code == c for s, c, _ in results)
    pri_ok = sum(s.priority == p for s, _, p in results)
    with capsys.disabled():
        print(
            f"\nclassifier accuracy: category {cat_ok / n:.1%} ({cat_ok}/{n}), "
            f"priority {pri_ok / n:.1%} ({pri_ok}/{n})"
        )
    assert cat_ok / n >= CATEGORY_ACCURACY_FLOOR
    assert pri_ok / n >= PRIORITY_ACCURACY_FLOOR


def _accuracy(rules, messages) -> tuple[float, float]:
    """Share of messages whose category, and whose priority, the classifier gets right."""
    results = [(classify(t, rules), c, p) for t, c, p in messages]
    n = len(results)
    return (sum(s.category_code == c for s, c, _ in results) / n,
            sum(s.priority == p for s, _, p in results) / n)


@pytest.mark.parametrize("name, messages, half", [
    ("tune", TUNE_MESSAGES, "even"),
    ("held-out", HELD_OUT_MESSAGES, "odd"),
])
def test_accuracy_on_demo_messages(rules, capsys, name, messages, half):
    assert len(RESIDENT_MESSAGES) >= 190
    cat, pri = _accuracy(rules, messages)
    with capsys.disabled():
        print(f"\nclassifier {name} (demo messages, {half} half, n={len(messages)}): "
              f"category {cat:.1%}, priority {pri:.1%}")
    cat_floor, pri_floor = DEMO_FLOORS[name]
    assert cat >= cat_floor
    assert pri >= pri_floor


def test_labelled_urgent_messages_are_mostly_caught(rules):
    urgent = [t for t, _, p in LABELLED_MESSAGES if p == "urgent"]
    caught = sum(classify(t, rules).priority == "urgent" for t in urgent)
    assert caught / len(urgent) >= 0.75


# --- seed data -----------------------------------------------------------


def test_seed_has_exactly_the_agreed_categories():
    seed = {c["code"]: (c["name"], c["default_priority"]) for c in category_seed.CATEGORY_SEED}
    assert seed == EXPECTED_CATEGORIES
    orders = [c["sort_order"] for c in category_seed.CATEGORY_SEED]
    assert len(set(orders)) == len(orders)
    assert all(isinstance(o, int) for o in orders)


def test_seed_keywords_are_sized_and_weighted():
    for cat in category_seed.CATEGORY_SEED:
        kw = cat["keywords"]
        if cat["code"] != "other":
            assert 15 <= len(kw) <= 60, cat["code"]
        assert all(isinstance(w, str) and w.strip() for w in kw), cat["code"]
        assert all(isinstance(v, float) and v > 0 for v in kw.values()), cat["code"]


def test_rules_from_seed_follow_sort_order(rules):
    seed = sorted(category_seed.CATEGORY_SEED, key=lambda c: c["sort_order"])
    assert [r.code for r in rules] == [c["code"] for c in seed]
    assert all(isinstance(r, CategoryRule) for r in rules)
    assert rules_from_seed() == rules


# --- priority ------------------------------------------------------------


@pytest.mark.parametrize("phrase", sorted(category_seed.URGENT_PHRASES))
def test_every_urgent_phrase_yields_urgent(rules, phrase):
    assert classify(phrase, rules).priority == "urgent"
    s = classify(f"社区你好，古田路16号3号楼这边{phrase}，快来人看看", rules)
    assert s.priority == "urgent"
    assert phrase in s.urgent_terms


@pytest.mark.parametrize("phrase", category_seed.HIGH_PHRASES)
def test_every_high_phrase_yields_at_least_high(rules, phrase):
    # "建议" alone would be a low-priority suggestion; the high phrase must lift it.
    s = classify(f"建议{phrase}", rules)
    assert RANK[s.priority] <= RANK["high"]


def test_required_urgent_phrases_are_present():
    for phrase in ("煤气味", "燃气泄漏", "着火", "起火", "冒烟", "晕倒", "昏迷",
                   "水管爆了", "爆管", "被困电梯", "困在电梯", "触电", "老人走失"):
        assert phrase in category_seed.URGENT_PHRASES
    for phrase in ("独居老人", "卧床", "停水", "停电", "好几天了", "一直没人管"):
        assert phrase in category_seed.HIGH_PHRASES


def test_urgent_default_is_never_lowered():
    rules = [
        CategoryRule("alarm", "urgent", {"报警器": 1.0}),
        CategoryRule("chat", "low", {"聊天": 1.0}),
    ]
    for text in ("报警器响了", "报警器响了，停水了", "报警器 建议 聊天 报警器"):
        assert classify(text, rules).priority == "urgent"


def test_high_phrase_does_not_lower_urgent_or_raise_past_high(rules):
    assert classify("着火了，家里还停电了", rules).priority == "urgent"
    assert classify("建议社区组织活动，一直没人管", rules).priority == "high"


def test_hypothetical_danger_is_not_urgent(rules):
    s = classify("消防通道堵了，万一着火消防车进不来", rules)
    assert s.category_code == "public_security"
    assert s.priority == "high"
    assert classify("燃气灶打不着火", rules).priority != "urgent"


def test_urgent_without_any_keyword_still_urgent(rules):
    s = classify("有人晕倒了", rules)
    assert s.priority == "urgent"


@pytest.mark.parametrize("text, expected", [
    ("水龙头关不严，一直滴答", "normal"),
    ("家里停水了，一滴水都没有", "high"),
    ("暖气片有点响，想找人看看", "normal"),
    ("暖气不热，晚上冻得睡不着", "high"),
    ("燃气费在哪交，能在社区交吗", "low"),
    ("楼里停电了，我爸在家吸氧，制氧机停了", "urgent"),
])
def test_utility_priority_follows_the_situation(rules, text, expected):
    assert classify(text, rules).priority == expected


@pytest.mark.parametrize("text", [
    "我母亲在家摔倒了起不来，快去看看",
    "我爸早上出门到现在还没回来",
    "隔壁大娘好几天没见出门，敲门也没人应",
])
def test_person_in_danger_is_urgent_elderly_care(rules, text):
    s = classify(text, rules)
    assert (s.category_code, s.priority) == ("elderly_care", "urgent")


def test_worry_about_danger_is_high_not_urgent(rules):
    s = classify("楼道的灯电线露在外面，怕触电", rules)
    assert s.priority == "high"
    assert "触电" in s.urgent_terms


def test_phone_help_is_low(rules):
    s = classify("手机微信视频打不出去了，不会弄，能不能来教教", rules)
    assert (s.category_code, s.priority) == ("appliance", "low")


# --- category choice -----------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("微波炉一开就跳闸，是不是坏了", "appliance"),
    ("电饭锅插上电不热", "appliance"),
    ("家里跳闸了，推不上去", "water_power"),
    ("燃气热水器打不着火", "appliance"),
    ("燃气灶打不着火", "gas_heating"),
])
def test_device_outranks_symptom(rules, text, expected):
    assert classify(text, rules).category_code == expected


def test_leading_cue_marks_a_suggestion(rules):
    text = "提个建议：好多老人不会用智能手机和微信，通知能不能也贴在公告栏"
    assert classify(text, rules).category_code == "suggestion"


def test_weak_hint_alone_decides_nothing(rules):
    assert classify("捡到一个钱包，里面有身份证", rules).category_code == "other"


@pytest.mark.parametrize("text", ["", "   ", "\n\t\u3000", None])
def test_empty_text_falls_back_to_other(rules, text):
    s = classify(text, rules)
    assert s == Suggestion("other", "normal", 0.0, (), ())


@pytest.mark.parametrize("text", ["今天天气不错，吃了吗", "哈哈哈", "asdf 1234", "🙂🙂"])
def test_unknown_words_fall_back_to_other(rules, text):
    s = classify(text, rules)
    assert s.category_code == "other"
    assert s.confidence == 0.0
    assert s.matched == ()


def test_ties_go_to_the_earlier_rule_deterministically():
    a = CategoryRule("a", "normal", {"水管": 1.0})
    b = CategoryRule("b", "low", {"龙头": 1.0})
    text = "水管和龙头都坏了"
    assert {classify(text, [a, b]).category_code for _ in range(20)} == {"a"}
    assert {classify(text, [b, a]).category_code for _ in range(20)} == {"b"}
    assert classify(text, [a, b]).confidence == pytest.approx(0.5)


def test_token_and_substring_matches_are_not_double_counted():
    # If "水管" counted twice (token + substring) it would tie with "龙头" and win on order.
    rules = [CategoryRule("a", "normal", {"水管": 1.0}), CategoryRule("b", "normal", {"龙头": 2.0})]
    s = classify("水管和龙头", rules)
    assert s.category_code == "b"
    assert s.confidence == pytest.approx(2 / 3, abs=1e-3)


def test_substring_match_covers_segmentation_misses():
    # jieba cuts this as 水龙头/不/出水, so only the substring pass can see the keyword.
    rules = [CategoryRule("a", "low", {"龙头不出": 1.0})]
    assert classify("水龙头不出水", rules).category_code == "a"


def test_single_character_keyword_needs_a_whole_token():
    rules = [CategoryRule("light", "normal", {"灯": 1.0})]
    assert classify("楼道里那个灯，一到晚上就不亮", rules).category_code == "light"
    assert classify("水顺着吊灯往下滴", rules).category_code == "other"


def test_bathroom_is_not_sanitation(rules):
    assert classify("卫生间马桶堵了", rules).category_code == "water_power"


def test_matched_terms_belong_to_the_winner(rules):
    s = classify("暖气不热，屋里冷得很", rules)
    assert s.category_code == "gas_heating"
    assert "暖气" in s.matched
    keywords = next(r.keywords for r in rules if r.code == "gas_heating")
    assert all(term in keywords for term in s.matched)


def test_normalises_width_and_spaces(rules):
    assert classify("煤 气 味", rules).priority == "urgent"
    assert classify("ＷＩＦＩ 路由器坏了", rules).category_code == "appliance"


def test_rules_are_hashable_and_compare_by_value():
    one = CategoryRule("a", "normal", {"水管": 1.0})
    two = CategoryRule("a", "normal", {"水管": 1})
    assert one == two and hash(one) == hash(two)
    with pytest.raises(ValueError):
        CategoryRule("a", "asap", {})


# --- robustness and performance -----------------------------------------

SEED_WORDS = sorted(
    {w for c in category_seed.CATEGORY_SEED for w in c["keywords"]}
    | set(category_seed.URGENT_PHRASES)
    | set(category_seed.HIGH_PHRASES)
)
KNOWN_CODES = set(EXPECTED_CATEGORIES)


def _check(s: Suggestion) -> None:
    assert s.category_code in KNOWN_CODES
    assert s.priority in PRIORITIES
    assert 0.0 <= s.confidence <= 1.0
    assert isinstance(s.matched, tuple) and isinstance(s.urgent_terms, tuple)
    if s.category_code == "other":
        assert s.confidence == 0.0


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_classify_never_raises_on_arbitrary_text(text):
    _check(classify(text, rules_from_seed()))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(SEED_WORDS), st.text(max_size=3)), max_size=12))
def test_classify_is_consistent_on_keyword_soup(parts):
    text = "".join(parts)
    rules = rules_from_seed()
    s = classify(text, rules)
    _check(s)
    default = next(r.default_priority for r in rules if r.code == s.category_code)
    assert RANK[s.priority] <= RANK[_priority_floor(s.category_code, default, text)]
    assert classify(text, rules) == s


def _priority_floor(code: str, default: str, text: str) -> str:
    """The least urgent priority the classifier may give: the default, with its documented lowerings."""
    if any(p in text for p in category_seed.INQUIRY_PHRASES):
        return "low"
    if any(p in text for p in category_seed.LOW_STAKES.get(code, ())):
        return "low"
    if code in category_seed.SITUATIONAL_DEFAULT and RANK[default] < RANK["normal"]:
        return "normal"
    return default


def test_importing_classifier_does_not_import_jieba():
    code = (
        "import sys\n"
        "import dispatch.tickets.classifier\n"
        "assert 'jieba' not in sys.modules, 'jieba imported eagerly'\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr


def test_fast_after_first_call(rules):
    text = ("古田路16号3号楼2单元402，家里厨房水龙头一直滴水，关也关不严，已经好几天了，"
            "家里就我一个老太太，腿脚不好下不了楼，麻烦社区帮帮忙派个师傅来看看，谢谢了")
    classify(text, rules)
    timings = []
    for _ in range(200):
        start = time.perf_counter()
        classify(text, rules_from_seed())
        timings.append(time.perf_counter() - start)
    # Target is a few hundred microseconds; the bound is loose so slow CI does not flake.
    assert statistics.median(timings) < 0.003
