"""Whether a resident's note is small talk (thanks, an acknowledgement, a greeting, an emoji or a sticker).

Pure: no Flask, no database. Conservative by construction: a note is small talk only when all of it is
known courtesy (words from the lists below, punctuation, friendly emoji, WeChat's faces and its sticker
placeholder) and the classifier recognises nothing in it. Anything else, however short ("灯坏了", "电梯",
"救命", "🥶"), is a report: a real problem is never dropped, and when unsure a ticket is opened.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from dispatch.tickets import classifier

THANKS, GREETING, ACK, EMOJI = "thanks", "greeting", "ack", "emoji"
KINDS = (THANKS, GREETING, ACK, EMOJI)  # the order a mixed note is answered in ("你好，谢谢" is thanks)
MAX_CHARS = 40  # longer than this, a resident is telling us something

# Words that say something on their own; a note needs at least one of them.
_CORE = {
    THANKS: (
        "谢谢", "谢了", "谢啦", "谢", "多谢", "感谢", "感恩", "辛苦了", "辛苦啦", "辛苦", "受累了",
        "麻烦了", "麻烦您了", "麻烦你了", "麻烦你们了", "费心了", "有劳了", "不客气", "太好了", "真好",
        "好人", "好样的", "真棒", "太棒了", "棒", "给力", "一生平安", "身体健康", "工作顺利", "万事如意",
        "thanks", "thankyou", "thx", "3q", "帮了大忙",
    ),
    GREETING: (
        "您好", "你好", "你们好", "大家好", "在吗", "在么", "在不在", "有人吗", "有人在吗", "早",
        "早安", "早上好", "上午好", "中午好", "下午好", "晚上好", "晚安", "新年好", "过年好",
        "新年快乐", "春节快乐", "节日快乐", "中秋快乐", "中秋节快乐", "国庆快乐", "元旦快乐",
        "端午安康", "哈喽", "hello", "hi", "嗨", "喂", "打扰了", "打扰一下", "再见", "拜拜", "回见",
        "bye", "byebye", "88",
    ),
    ACK: (
        "好", "好的", "好滴", "好哒", "好嘞", "好吧", "好呀", "好了", "行", "行的", "成", "中",
        "可以", "可以的", "没问题", "收到", "收到了", "知道了", "知道", "晓得了", "晓得", "明白",
        "明白了", "了解", "懂了", "嗯", "嗯嗯", "恩", "恩恩", "嗯呐", "哦", "哦哦", "噢", "喔",
        "ok", "okay", "okk", "对", "对的", "是的", "是", "得嘞", "妥", "哈哈", "呵呵", "嘿嘿", "嘻嘻",
        "666", "修好了", "弄好了", "解决了", "处理好了", "搞定了", "看到了", "等你们消息", "等你们电话",
        "等消息", "等电话", "我等着",
    ),
}
# Words that only go with others: whom a note addresses, how warmly, and its particles.
_FILLERS = (
    "你", "您", "你们", "您们", "大家", "各位", "亲", "师傅", "师傅们", "社区", "居委会", "工作人员",
    "同志", "领导", "小伙子", "姑娘", "小姑娘", "网格员", "书记", "主任", "老师", "了", "啦", "啊", "呀", "哈",
    "嘛", "呢", "吧", "的", "哒", "滴", "喽", "咯", "哟", "哇", "额", "呃", "非常", "太", "真", "十分",
    "万分", "真是", "特别", "实在", "很", "多", "那", "就", "那就", "我", "我们", "已经", "都", "也",
    "一下", "这么快", "很快", "及时", "热情",
)
# What a resident thanks us for: only with a word of thanks ("谢谢你们的帮助"), never alone.
_THANKED_FOR = ("帮助", "帮忙", "关心", "照顾", "支持", "服务", "付出", "操心")

# WeChat's own faces arrive as text: "[微笑]" (newer clients, Chinese or English names) or "/::)" (older ones).
# Only friendly ones are courtesy: a crying, sick or angry face may be someone in trouble, so it opens a ticket.
_FRIENDLY_FACES = frozenset((
    "微笑", "呲牙", "偷笑", "愉快", "憨笑", "悠闲", "鼓掌", "坏笑", "亲亲", "笑脸", "破涕为笑", "嘿哈",
    "机智", "耶", "加油", "emm", "好的", "666", "强", "握手", "胜利", "抱拳", "ok", "合十", "玫瑰",
    "爱心", "拥抱", "太阳", "月亮", "庆祝", "礼物", "红包", "發", "福", "烟花", "爆竹", "咖啡", "蛋糕",
    "啤酒", "害羞", "调皮", "得意", "可爱", "吃瓜", "旺柴", "社会社会", "哇", "捂脸", "奸笑", "让我看看",
    "表情", "动画表情", "smile", "grin", "chuckle", "joyful", "laugh", "applause", "thumbsup", "strong",
    "shake", "peace", "fight", "rose", "heart", "hug", "sun", "moon", "gift", "party", "coffee", "cake",
    "salute", "worship", "blush", "lol", "packet",
))
_FRIENDLY_CODES = ("/::)", "/::d", "/::p", "/::$", "/:8-)", "/:strong", "/:share", "/:v", "/:@)", "/:ok",
                   "/:rose", "/:handclap", "/:heart", "/:hug", "/:sun", "/:coffee", "/:cake", "/:gift",
                   "/:jj", "/:lvu")
_FRIENDLY_EMOJI = frozenset(
    "👍🙏😊🙂😄😀😁😃😆😂🤣🤝👌❤💕💖💗💓🌹💐🌸🌺🌷🎉🎊👏✌🤗🥰😘😍🤩😉🙌✨🌟⭐👋🫡🍵☕🧧🏮💯✅✔🆗😌🫶💪☺🤭😋"
)
_EMOJI_GLUE = frozenset("\ufe0f\ufe0e\u200d\u20e3") | {chr(c) for c in range(0x1F3FB, 0x1F400)}  # skin tones
# A sticker (动画表情) reaches an official account as this text, whatever the resident's language.
_STICKER = re.compile(r"[\[【]?收到不支持的消息类型[,，]?暂无法显示[\]】]?")
_BRACKETED = re.compile(r"\[([^\[\]]{1,8})\]")
_SPACE = re.compile(r"\s+")
_EXTRA_PUNCTUATION = frozenset("~^`|+=<>")


def _words():
    words = {w: k for k in (ACK, GREETING, THANKS) for w in _CORE[k]}  # the stronger kind wins a shared word
    words.update({w: "filler" for w in _FILLERS if w not in words})
    words.update({w: "thanked_for" for w in _THANKED_FOR})
    return words


_WORDS = _words()
_LONGEST = max(map(len, _WORDS))


def _strip_faces(text: str) -> str:
    """The text without the sticker placeholder and its friendly faces and emoji."""
    text = _STICKER.sub("", text)
    text = _BRACKETED.sub(lambda m: "" if m.group(1) in _FRIENDLY_FACES else m.group(0), text)
    for code in _FRIENDLY_CODES:
        text = text.replace(code, "")
    return "".join(c for c in text if c not in _FRIENDLY_EMOJI and c not in _EMOJI_GLUE)


def _strip_punctuation(text: str) -> str:
    return "".join(c for c in text if not unicodedata.category(c).startswith("P") and c not in _EXTRA_PUNCTUATION)


def _segment(text: str) -> list[str] | None:
    """The text as a sequence of known words (fewest pieces), or None when some part is not one."""
    best: list[list[str] | None] = [[]] + [None] * len(text)
    for end in range(1, len(text) + 1):
        for start in range(max(0, end - _LONGEST), end):
            piece, before = text[start:end], best[start]
            if before is not None and piece in _WORDS and (best[end] is None or len(before) + 1 < len(best[end])):
                best[end] = before + [piece]
    return best[len(text)]


def candidate(text: str | None) -> str | None:
    """The kind of small talk the words alone make (THANKS, GREETING, ACK or EMOJI), or None for a report.

    Needs no classifier: the plain-note path asks this before choosing to open a ticket on arrival."""
    text = _SPACE.sub("", unicodedata.normalize("NFKC", text or "")).lower()
    if not text or len(text) > MAX_CHARS:
        return None
    text = _strip_punctuation(_strip_faces(text))
    if not text:
        return EMOJI  # faces, a sticker or punctuation alone ("？" asks us to say something)
    pieces = _segment(text)
    if pieces is None:
        return None
    kinds = {_WORDS[p] for p in pieces}
    if "thanked_for" in kinds and THANKS not in kinds:
        return None
    return next((k for k in KINDS if k in kinds), None)  # particles alone ("你们", "了") say nothing


def recognised(suggestion: classifier.Suggestion) -> bool:
    """Whether the classifier found anything of a problem: a category, a keyword or an urgent phrase."""
    return bool(suggestion.category_code != classifier.FALLBACK_CODE or suggestion.matched
                or suggestion.urgent_terms)


def kind(text: str | None, suggest: Callable[[str], classifier.Suggestion] | None = None) -> str | None:
    """The kind of small talk a note is, or None when it may be a report (then it opens a ticket).

    suggest: the classifier with the rules as stored (default: the seeded ones)."""
    found = candidate(text)
    if found is None or found == EMOJI:
        return found
    suggest = suggest or (lambda words: classifier.classify(words, classifier.rules_from_seed()))
    return None if recognised(suggest(text)) else found
