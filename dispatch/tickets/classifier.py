"""Suggest a category and priority for a resident's message.

Pure functions: no Flask, no database. The ticket form calls ``classify`` on
every new ticket, so everything derived from the rules is compiled once and
memoised. jieba (slow to import, ~1 s to load its dictionary) is loaded by
``preload`` when a web worker starts (the app factory calls it when serving),
else by the first call that needs it.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from dispatch.tickets import category_seed

PRIORITIES: tuple[str, ...] = ("urgent", "high", "normal", "low")
FALLBACK_CODE = "other"
_RANK = {p: i for i, p in enumerate(PRIORITIES)}
_WHITESPACE = re.compile(r"\s+")


class _FrozenKeywords(Mapping):
    """Read-only, hashable keyword -> weight mapping."""

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[str, float]) -> None:
        self._data = {str(k): float(v) for k, v in data.items()}
        self._hash = hash(frozenset(self._data.items()))

    def __getitem__(self, key: str) -> float:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _FrozenKeywords):
            return self._hash == other._hash and self._data == other._data
        return isinstance(other, Mapping) and self._data == dict(other.items())

    def __repr__(self) -> str:
        return f"_FrozenKeywords({self._data!r})"


@dataclass(frozen=True)
class CategoryRule:
    """One category's code, default priority and keyword weights."""

    code: str
    default_priority: str
    keywords: Mapping[str, float]

    def __post_init__(self) -> None:
        # Rules are the memoisation key, so keywords must be hashable and immutable.
        if self.default_priority not in _RANK:
            raise ValueError(f"unknown priority {self.default_priority!r}")
        object.__setattr__(self, "keywords", _FrozenKeywords(self.keywords))


@dataclass(frozen=True)
class Suggestion:
    """The classifier's proposal; staff may override it."""

    category_code: str
    priority: str
    confidence: float  # winner's share of all keyword scores, 0 when nothing matched
    matched: tuple[str, ...]  # the winner's keywords found in the text
    urgent_terms: tuple[str, ...]  # phrases that raised the priority (urgent ones first)


@dataclass(frozen=True)
class _Compiled:
    """Rules preprocessed for fast matching."""

    rules: tuple[CategoryRule, ...]
    token_index: Mapping[str, tuple[tuple[int, float], ...]]
    substr_index: Mapping[str, tuple[tuple[str, int, float], ...]]
    fallback_priority: str


_jieba_lock = threading.Lock()
_tokenizer = None
_registered_words: set[str] = set()


def _normalise(text: str) -> str:
    """Fold full-width characters and case, and drop whitespace."""
    # Chinese needs no spaces; removing them lets "煤气 味" still match "煤气味".
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", text)).lower()


def _get_tokenizer():
    """Load a private jieba tokenizer on first use, with its log muted."""
    global _tokenizer
    with _jieba_lock:
        if _tokenizer is None:
            import jieba  # deferred: importing jieba costs time and memory

            jieba.setLogLevel(logging.WARNING)
            # A private instance keeps our user words out of jieba's global dictionary.
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            _tokenizer = tokenizer
        return _tokenizer


def _register_words(words: frozenset[str]) -> None:
    """Teach the tokenizer our keywords so it does not split them."""
    tokenizer = _get_tokenizer()
    with _jieba_lock:
        for word in sorted(words - _registered_words):
            if len(word) > 1:
                tokenizer.add_word(word)
        _registered_words.update(words)


@functools.lru_cache(maxsize=32)
def _compile(rules: tuple[CategoryRule, ...]) -> _Compiled:
    """Index keywords by token and by first character, once per rule set."""
    token_index: dict[str, list[tuple[int, float]]] = {}
    substr_index: dict[str, list[tuple[str, int, float]]] = {}
    for idx, rule in enumerate(rules):
        for raw, weight in rule.keywords.items():
            word = _normalise(raw)
            if not word or weight <= 0:
                continue
            token_index.setdefault(word, []).append((idx, weight))
            if len(word) > 1:
                substr_index.setdefault(word[0], []).append((word, idx, weight))
    fallback = next((r.default_priority for r in rules if r.code == FALLBACK_CODE), "normal")
    return _Compiled(
        rules=rules,
        token_index={k: tuple(v) for k, v in token_index.items()},
        substr_index={k: tuple(v) for k, v in substr_index.items()},
        fallback_priority=fallback,
    )


@functools.lru_cache(maxsize=32)
def _prepare(rules: tuple[CategoryRule, ...]) -> _Compiled:
    """Compile the rules and register their words with jieba, once per rule set."""
    compiled = _compile(rules)
    words = set(compiled.token_index) | set(_URGENT) | set(_HIGH)
    _register_words(frozenset(words))
    return compiled


def _matched_keywords(text: str, compiled: _Compiled) -> dict[str, tuple[tuple[int, float], ...]]:
    """Single-character keywords as jieba tokens, longer ones as longest-first substrings."""
    text = _mask(text, _KEYWORD_FALSE_FRIENDS)
    found = {}
    for token in _get_tokenizer().lcut(text, HMM=False):
        hits = compiled.token_index.get(token)
        if hits and len(token) == 1:
            found[token] = hits
    candidates = {
        word
        for char in set(text)
        for word, _idx, _weight in compiled.substr_index.get(char, ())
        if word in text
    }
    # Longest first, blanking each match, so "燃气热水器" does not also count as "燃气".
    for word in sorted(candidates, key=lambda w: (-len(w), w)):
        if word in text:
            found[word] = compiled.token_index[word]
            text = text.replace(word, "\0")
    return found


def _score(found: Mapping[str, tuple[tuple[int, float], ...]], n_rules: int) -> list[float]:
    """Sum each category's weights over the distinct keywords found."""
    # A symptom ("跳闸") counts half once any other keyword names the thing that is broken.
    discount = 0.5 if any(w not in _SYMPTOMS for w in found) else 1.0
    scores = [0.0] * n_rules
    for word, hits in found.items():
        factor = discount if word in _SYMPTOMS else 1.0
        for idx, weight in hits:
            scores[idx] += weight * factor
    return scores


def _add_leading_cues(text: str, rules: Sequence[CategoryRule], scores: list[float]) -> None:
    """Boost a category the message announces itself as ("建议……" is a suggestion)."""
    for idx, rule in enumerate(rules):
        # Within the first few characters, so a greeting ("你好，建议……") may come first.
        if any(text.find(cue, 0, len(cue) + 4) >= 0 for cue in _LEADING_CUES.get(rule.code, ())):
            scores[idx] += _LEADING_CUE_BONUS


def _mask(text: str, words: Sequence[str]) -> str:
    """Blank out the given words so that nothing inside them matches."""
    for word in words:
        if word in text:
            text = text.replace(word, "\0")
    return text


def _urgent_hits(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Urgent phrases present as (real, hypothetical), ignoring false friends."""
    hits = [p for p in _URGENT if p in text]
    combos = _combo_hits(text)
    if not hits:
        return combos, ()  # fast path: most messages contain no urgent phrase at all
    text = _mask(text, _URGENT_FALSE_FRIENDS)
    hits = [p for p in hits if p in text]
    worries = [m + p for p in hits for m in _HYPOTHETICAL]
    real = _mask(text, worries)
    return (tuple(p for p in hits if p in real) + combos,
            tuple(p for p in hits if p not in real))


def _combo_hits(text: str) -> tuple[str, ...]:
    """Words from both groups of an urgent combination (停电 + 制氧机)."""
    terms: list[str] = []
    for first, second in _URGENT_COMBOS:
        a = [w for w in first if w in text]
        b = [w for w in second if w in text]
        if a and b:
            terms += a + b
    return tuple(terms)


def _situational(code: str, default: str, text: str) -> str:
    """The category default when the situation warrants it, else normal or low."""
    evidence = _SITUATIONAL.get(code, ())
    if evidence and _RANK[default] < _RANK["normal"] and not any(p in text for p in evidence):
        default = "normal"  # nothing is out or dangerous: an ordinary repair
    if _RANK[default] < _RANK["normal"]:
        return default
    if any(p in text for p in _INQUIRY) or any(p in text for p in _LOW_STAKES.get(code, ())):
        return "low"  # a question about fees or dates, or help that can wait
    return default


def _raise_priority(priority: str, text: str) -> tuple[str, tuple[str, ...]]:
    """Apply urgent/high phrases; a worry about danger ("怕触电") counts as high."""
    urgent, worries = _urgent_hits(text)
    high = tuple(p for p in _HIGH if p in text)
    if urgent:
        return "urgent", urgent + high
    high = worries + high
    if high and _RANK[priority] > _RANK["high"]:
        return "high", high
    return priority, high


def classify(text: str, rules: Sequence[CategoryRule]) -> Suggestion:
    """Suggest category, priority and confidence for a resident's message."""
    rules = tuple(rules)
    compiled = _prepare(rules)
    norm = _normalise(text or "")
    if not norm:
        return Suggestion(FALLBACK_CODE, compiled.fallback_priority, 0.0, (), ())
    found = _matched_keywords(norm, compiled)
    scores = _score(found, len(rules))
    _add_leading_cues(norm, rules, scores)
    total = sum(scores)
    # max() keeps the first of equal scores, so ties go to the earlier rule.
    best = max(range(len(rules)), key=scores.__getitem__)
    if scores[best] < _MIN_SCORE:  # weak hints alone (身份证, 能不能) decide nothing
        priority, terms = _raise_priority(compiled.fallback_priority, norm)
        return Suggestion(FALLBACK_CODE, priority, 0.0, (), terms)
    matched = tuple(w for w, hits in found.items() if any(i == best for i, _ in hits))
    base = _situational(rules[best].code, rules[best].default_priority, norm)
    priority, terms = _raise_priority(base, norm)
    confidence = round(min(1.0, scores[best] / total), 4)
    return Suggestion(rules[best].code, priority, confidence, matched, terms)


def preload() -> None:
    """Load jieba's dictionary and teach it the seeded keywords now, so that no message waits for them."""
    _prepare(_seed_rules())


def rules_from_seed() -> list[CategoryRule]:
    """Build classifier rules from the seeded categories, in sort order."""
    return list(_seed_rules())


@functools.lru_cache(maxsize=1)
def _seed_rules() -> tuple[CategoryRule, ...]:
    """Seed rules built once, so repeated calls reuse the same objects (cheap cache hits)."""
    seed = sorted(category_seed.CATEGORY_SEED, key=lambda c: c["sort_order"])
    return tuple(CategoryRule(c["code"], c["default_priority"], c["keywords"]) for c in seed)


def _normalised(words) -> tuple[str, ...]:
    """Normalise and de-duplicate a word list, keeping its order."""
    return tuple(w for w in dict.fromkeys(_normalise(x) for x in words) if w)


_URGENT = _normalised(category_seed.URGENT_PHRASES)
_HIGH = _normalised(category_seed.HIGH_PHRASES)
_KEYWORD_FALSE_FRIENDS = _normalised(category_seed.KEYWORD_FALSE_FRIENDS)
_URGENT_FALSE_FRIENDS = _normalised(category_seed.URGENT_FALSE_FRIENDS)
_HYPOTHETICAL = _normalised(category_seed.HYPOTHETICAL_MARKERS)
_SYMPTOMS = frozenset(_normalised(category_seed.SYMPTOM_WORDS))
_INQUIRY = _normalised(category_seed.INQUIRY_PHRASES)
_SITUATIONAL = {k: _normalised(v) for k, v in category_seed.SITUATIONAL_DEFAULT.items()}
_LOW_STAKES = {k: _normalised(v) for k, v in category_seed.LOW_STAKES.items()}
_LEADING_CUES = {k: _normalised(v) for k, v in category_seed.LEADING_CUES.items()}
_URGENT_COMBOS = tuple(
    (_normalised(a), _normalised(b)) for a, b in category_seed.URGENT_COMBOS
)
_LEADING_CUE_BONUS = 5.0
_MIN_SCORE = 1.0
