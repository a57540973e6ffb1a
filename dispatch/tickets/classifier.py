"""Suggest a category and priority for a resident's message.

Pure functions: no Flask, no database. The ticket form calls ``classify`` on
every new ticket, so everything derived from the rules is compiled once and
memoised, and jieba (slow to import, ~1 s to load its dictionary) is loaded
only on the first call that needs it.
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
    confidence: float
    matched: tuple[str, ...]
    urgent_terms: tuple[str, ...]


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
    """Keywords present as jieba tokens or, if multi-character, as substrings."""
    found = {}
    for token in _get_tokenizer().lcut(text, HMM=False):
        hits = compiled.token_index.get(token)
        if hits:
            found[token] = hits
    # Substring pass catches keywords jieba split differently; the dict stops double counting.
    text = _mask(text, _KEYWORD_FALSE_FRIENDS)
    for char in set(text):
        for word, _idx, _weight in compiled.substr_index.get(char, ()):
            if word not in found and word in text:
                found[word] = compiled.token_index[word]
    return found


def _score(found: Mapping[str, tuple[tuple[int, float], ...]], n_rules: int) -> list[float]:
    """Sum each category's weights over the distinct keywords found."""
    scores = [0.0] * n_rules
    for hits in found.values():
        for idx, weight in hits:
            scores[idx] += weight
    return scores


def _mask(text: str, words: Sequence[str]) -> str:
    """Blank out the given words so that nothing inside them matches."""
    for word in words:
        if word in text:
            text = text.replace(word, "\0")
    return text


def _urgent_hits(text: str) -> tuple[str, ...]:
    """Urgent phrases present, ignoring false friends and hypotheticals."""
    hits = [p for p in _URGENT if p in text]
    if not hits:
        return ()  # fast path: most messages contain no urgent phrase at all
    text = _mask(text, _URGENT_FALSE_FRIENDS)
    worries = [m + p for p in hits for m in _HYPOTHETICAL]
    text = _mask(text, worries)
    return tuple(p for p in hits if p in text)


def _raise_priority(priority: str, text: str) -> tuple[str, tuple[str, ...]]:
    """Apply urgent/high phrases; priority is only ever raised, never lowered."""
    urgent = _urgent_hits(text)
    high = tuple(p for p in _HIGH if p in text)
    if urgent:
        return "urgent", urgent + high
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
    total = sum(scores)
    if total <= 0:
        priority, terms = _raise_priority(compiled.fallback_priority, norm)
        return Suggestion(FALLBACK_CODE, priority, 0.0, (), terms)
    # max() keeps the first of equal scores, so ties go to the earlier rule.
    best = max(range(len(rules)), key=scores.__getitem__)
    matched = tuple(w for w, hits in found.items() if any(i == best for i, _ in hits))
    priority, terms = _raise_priority(rules[best].default_priority, norm)
    confidence = round(min(1.0, scores[best] / total), 4)
    return Suggestion(rules[best].code, priority, confidence, matched, terms)


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
