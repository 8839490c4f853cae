"""What a customer's free-text WhatsApp message asks for: a pure, fast, rule-based intent classifier.

Customers write English, Hindi (Devanagari), Hinglish and mixes of them, with typos and emojis. The text is
normalised (Unicode NFKC, case, emojis to words, order numbers and ratings to markers, doubled letters and
Devanagari vowel variants folded), each word is mapped to a known word (exactly, or within one edit for words
of five letters or more) and so to concepts (`intent_lexicon.CONCEPTS`), and weighted rules over those
concepts score each intent. Negation is tracked per clause ("don't cancel, where is it" asks where it is).
Opting out is deliberately narrow: a bare STOP / "band karo" or a stop aimed at messages, never a stop aimed
at calls or at the order. No I/O, no model files, no external service.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from orderwire.bot.intent_lexicon import CONCEPTS, FILLER

INTENTS = (
    "where_is_my_order",
    "cancel_order",
    "return_or_exchange",
    "change_address",
    "talk_to_human",
    "opt_out",
    "opt_in",
    "feedback",
    "greeting",
    "other",
)
CONFIDENT = 0.6
"""Below this confidence the caller should treat the message as unclear (ask again or hand to staff)."""


@dataclass(frozen=True)
class Classification:
    """The most likely intent and how sure the classifier is of it (0 to 1)."""

    intent: str
    confidence: float


def classify(text: str) -> Classification:
    """The intent of one customer message; `other` with low confidence when nothing is recognised."""
    signals = _Signals(_tokens(text))
    scores = _score(signals)
    if not scores:
        known = any(signals.concepts_at) or any(signals.filler_at)
        return Classification("other", 0.35 if known else 0.2)
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    intent, best = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    # A close runner-up makes the answer less certain.
    confidence = best - 1.5 * max(0.0, 0.1 - (best - second))
    return Classification(intent, round(min(1.0, max(0.0, confidence)), 3))


# --- normalisation ----------------------------------------------------------------------------------------

# Nukta, candrabindu and anusvara dropped; long and short i/u, and the English "o" vowel, made one.
_DEVANAGARI_FOLD = str.maketrans(
    {"\u093c": None, "\u0901": None, "\u0902": None, "\u0940": "\u093f", "\u0942": "\u0941",
     "\u0908": "\u0907", "\u090a": "\u0909", "\u0911": "\u0906", "\u0949": "\u093e", "\u0945": "\u0947"}
)  # fmt: skip
_EMOJI_WORDS = {
    "emojilove": "😍❤♥💕🥰😊😀😁🤩💯😘",
    "emojiok": "👍👌",
    "emojiplease": "🙏",
    "emojiwave": "👋",
    "emojirating": "⭐🌟★☆",
    "stop": "🛑",
}
_EMOJI = {ch: f" {word} " for word, chars in _EMOJI_WORDS.items() for ch in chars}
_RATING = re.compile(r"\b(?:10|[0-9])\s*/\s*(?:5|10)\b")
_ORDER_NUMBER = re.compile(r"#\s*\d+|\b\d{4,}\b")
_TOKEN = re.compile(r"[a-z0-9_]+|[\u0900-\u0963\u0966-\u097f]+|[.!?,;:\n\u0964\u0965]")
_CLAUSE_WORDS = frozenset({"but", "lekin", "magar", "however", "लेकिन", "मगर", "बस"})
_REPEATS = re.compile(r"(.)\1+")
_ELONGATED = re.compile(r"(.)\1{2,}")
_SUFFIXES = ("ing", "ed", "es", "s")


def normalise_word(word: str) -> str:
    """One spelling per word: lower case, 'ee'/'oo' as 'i'/'u', doubled letters single, Devanagari folded."""
    if word and "\u0900" <= word[0] <= "\u097f":
        return word.translate(_DEVANAGARI_FOLD)
    word = _ELONGATED.sub(r"\1", word.lower())  # "hellooo", "pleaseee": stretched for emphasis
    return _REPEATS.sub(r"\1", word.replace("ee", "i").replace("oo", "u"))


def _prepare(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(_EMOJI.get(ch, ch) for ch in text if ch not in "\u200b\u200c\u200d\ufe0f")
    text = re.sub(r"['\u2019]s\b", "", text)  # possessive: "someone else's order"
    text = text.replace("'", "").replace("\u2019", "").replace("-", " ")
    text = _RATING.sub(" emojirating ", text)
    return _ORDER_NUMBER.sub(" ordernum ", text)


# --- vocabulary -------------------------------------------------------------------------------------------


def _entries(words: str) -> Iterable[tuple[str, ...]]:
    for entry in words.split():
        yield tuple(normalise_word(part) for part in entry.split("_") if part)


def _build() -> tuple[dict[str, frozenset[str]], dict[tuple[str, ...], frozenset[str]], frozenset[str]]:
    words: dict[str, set[str]] = {}
    phrases: dict[tuple[str, ...], set[str]] = {}
    for concept, listed in CONCEPTS.items():
        for entry in _entries(listed):
            target = (
                words.setdefault(entry[0], set()) if len(entry) == 1 else phrases.setdefault(entry, set())
            )
            target.add(concept)
    filler = frozenset(entry[0] for entry in _entries(FILLER) if len(entry) == 1)
    return (
        {w: frozenset(c) for w, c in words.items()},
        {p: frozenset(c) for p, c in phrases.items()},
        filler,
    )


_WORDS, _PHRASES, _FILLER = _build()
_VOCABULARY = frozenset(_WORDS) | frozenset(w for p in _PHRASES for w in p) | _FILLER
_LONGEST_PHRASE = max(len(p) for p in _PHRASES)
_NOT_FOR_FUZZY = frozenset({"ordernum"})


def _fuzzy_length(word: str) -> int:
    return 4 if "\u0900" <= word[0] <= "\u097f" else 5


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _build_fuzzy() -> dict[str, frozenset[str]]:
    index: dict[str, set[str]] = {}
    for word in _VOCABULARY:
        if len(word) >= _fuzzy_length(word) and word not in _NOT_FOR_FUZZY and not word.startswith("emoji"):
            for key in _deletes(word) | {word}:
                index.setdefault(key, set()).add(word)
    return {k: frozenset(v) for k, v in index.items()}


_FUZZY = _build_fuzzy()


def _edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (insert, delete, substitute, swap two neighbours)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


@lru_cache(maxsize=8192)
def _known(word: str) -> str:
    """The vocabulary word this word spells (itself, its stem, or the nearest within one edit), or ''."""
    if not word or word in _VOCABULARY:
        return word
    for suffix in _SUFFIXES:  # "messaging" -> "messag" -> "message"
        stem = word.removesuffix(suffix)
        known = (stem if stem in _VOCABULARY else _nearest(stem)) if len(stem) >= 5 else ""
        if stem != word and known:
            return known
    return _nearest(word)


def _nearest(word: str) -> str:
    if len(word) < _fuzzy_length(word) or word.isdigit():
        return ""
    candidates = set(_FUZZY.get(word, ()))
    for key in _deletes(word):
        candidates |= _FUZZY.get(key, frozenset())
    near = [c for c in candidates if len(c) >= _fuzzy_length(c) and _edit_distance(word, c) <= 1]
    return min(near, key=lambda c: (abs(len(c) - len(word)), c)) if near else ""


# --- tokens and signals -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    word: str  # the vocabulary word ('' if unknown)
    clause: int
    filler: bool


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    clause = 0
    for raw in _TOKEN.findall(_prepare(text)):
        if not raw[0].isalnum() and raw[0] != "_" and not ("\u0900" <= raw[0] <= "\u097f"):
            clause += 1
            continue
        if raw in _CLAUSE_WORDS:
            clause += 1
            continue
        word = _known(normalise_word(raw))
        tokens.append(_Token(word, clause, word in _FILLER or raw.isdigit()))
    return tokens


class _Signals:
    """Which concepts a message holds, where, and whether a negation governs them."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.concepts_at: list[frozenset[str]] = [_WORDS.get(t.word, frozenset()) for t in tokens]
        self.filler_at = [t.filler for t in tokens]
        self.clause_at = [t.clause for t in tokens]
        words = [t.word for t in tokens]
        i = 0
        while i < len(tokens):  # phrases replace the meanings of the words they are made of
            for size in range(min(_LONGEST_PHRASE, len(tokens) - i), 1, -1):
                phrase = _PHRASES.get(tuple(words[i : i + size]))
                if phrase and len(set(self.clause_at[i : i + size])) == 1:
                    self.concepts_at[i] = phrase
                    for j in range(i + 1, i + size):
                        self.concepts_at[j] = frozenset()
                        self.filler_at[j] = True
                    self.filler_at[i] = False
                    i += size - 1
                    break
            i += 1

    def _positions(self, concept: str) -> list[int]:
        return [i for i, concepts in enumerate(self.concepts_at) if concept in concepts]

    def _near(self, position: int, concept: str, before: int, after: int) -> bool:
        clause = self.clause_at[position]
        lo, hi = max(0, position - before), min(len(self.concepts_at), position + after + 1)
        return any(
            concept in self.concepts_at[i] and self.clause_at[i] == clause
            for i in range(lo, hi)
            if i != position
        )

    def _negated_at(self, position: int) -> bool:
        return self._near(position, "NEG", 3, 0) or self._near(position, "NEG_IMPERATIVE", 0, 2)

    def has(self, *concepts: str) -> bool:
        return any(self._positions(c) for c in concepts)

    def free(self, *concepts: str) -> bool:
        """Present and not negated."""
        return any(not self._negated_at(p) for c in concepts for p in self._positions(c))

    def negated(self, *concepts: str) -> bool:
        return any(self._negated_at(p) for c in concepts for p in self._positions(c))

    def forbidden(self, *concepts: str) -> bool:
        """Present under an imperative negation: "don't send", "message mat bhejo", "no more messages"."""
        return any(
            self._near(p, "NEG_IMPERATIVE", 3, 2) or (self._near(p, "NEG", 2, 0) and self.has("WANT"))
            for c in concepts
            for p in self._positions(c)
        )

    def content(self) -> list[frozenset[str]]:
        return [c for c, filler in zip(self.concepts_at, self.filler_at, strict=True) if not filler]

    def clause_only(self, *concepts: str) -> bool:
        """Some clause holds only words of these concepts (and filler)."""
        wanted = set(concepts)
        clauses: dict[int, list[bool]] = {}
        for concepts_here, filler, clause in zip(
            self.concepts_at, self.filler_at, self.clause_at, strict=True
        ):
            if not filler:
                clauses.setdefault(clause, []).append(bool(concepts_here & wanted))
        return any(all(fits) for fits in clauses.values())

    def only(self, *concepts: str) -> bool:
        """Every word that is not filler belongs to one of these concepts (and there is at least one)."""
        content = self.content()
        return bool(content) and all(c & set(concepts) for c in content)


# --- rules ------------------------------------------------------------------------------------------------

_Add = Callable[[str, float], None]


def _score(s: _Signals) -> dict[str, float]:
    found: dict[str, list[float]] = {}

    def add(intent: str, weight: float) -> None:
        found.setdefault(intent, []).append(weight)

    _consent(s, add)
    _orders(s, add)
    _returns(s, add)
    _address_and_people(s, add)
    _chat(s, add)
    # Several rules agreeing raise the score a little.
    return {intent: min(0.99, max(w) + 0.02 * (len(w) - 1)) for intent, w in found.items()}


def _consent(s: _Signals, add: _Add) -> None:
    calls = s.has("CALL", "CALLING")
    goods = s.has("ORDER", "DELIVERY", "ITEM")
    if s.negated("STOP") and s.has("MESSAGE", "SEND"):
        add("opt_in", 0.85)  # "don't stop sending updates"
    elif not s.has("WHY"):  # "why did you stop the updates?" asks, it does not command
        if s.only("STOP", "UNSUB", "NEG_IMPERATIVE") and s.free("STOP", "UNSUB"):
            add("opt_out", 0.98)
        elif s.clause_only("STOP", "UNSUB") and s.free("STOP", "UNSUB"):
            add("opt_out", 0.9)  # "who are you, stop"
        if s.free("UNSUB") or (s.has("REMOVE") and s.has("MESSAGE", "NUMBER")):
            add("opt_out", 0.95)
        if s.free("STOP") and not calls and (s.has("MESSAGE") or (s.has("SEND") and not goods)):
            add("opt_out", 0.95)
        if s.has("MESSAGE") and (s.forbidden("MESSAGE", "SEND") or s.negated("WANT")) and not s.has("START"):
            add("opt_out", 0.9)
    if calls and (s.has("STOP") or s.forbidden("CALL", "CALLING")) and not s.has("MESSAGE"):
        add("other", 0.8)  # "stop calling me": a complaint about calls, not an opt-out from messages
    if s.only("START", "SUBSCRIBE", "YES"):
        if s.has("START", "SUBSCRIBE"):
            add("opt_in", 0.97)
    elif s.free("SUBSCRIBE") and not s.has("UNSUB"):
        add("opt_in", 0.9)
    positive = s.has("SEND", "RECEIVE", "KEEP", "YES", "AGREE") or s.free("WANT")
    if s.free("MESSAGE") and not s.has("STOP", "UNSUB") and not s.forbidden("MESSAGE", "SEND"):
        if s.has("START"):
            add("opt_in", 0.92)
        elif positive and not s.negated("WANT", "SEND"):
            add("opt_in", 0.85)


def _orders(s: _Signals, add: _Add) -> None:
    money = s.has("MONEY", "REFUND")
    order = s.has("ORDER", "DELIVERY")
    if s.has("WHERE") and not money:
        if order or s.has("STATUS"):
            add("where_is_my_order", 0.92)
        elif s.has("SHOP"):
            add("other", 0.75)  # where the shop is, not the parcel
        else:
            add("where_is_my_order", 0.8)
    if (
        s.has("WHEN", "ETA", "HOW_LONG")
        and s.has("ARRIVE", "DELIVERY", "ORDER")
        and (order or not s.has("OTHER_TOPIC"))
    ):
        add("where_is_my_order", 0.9)
    elif s.has("ETA", "HOW_LONG"):
        add("where_is_my_order", 0.85)
    if (s.negated("ARRIVE", "ARRIVED", "DELIVERY") or s.has("NOT_ARRIVED")) and not s.has("LIKE"):
        add("where_is_my_order", 0.88)
    if s.has("STATUS") and not s.has("WRONG"):
        add("where_is_my_order", 0.88)
    if s.has("ASKED_DONE") and s.free("SEND") and not s.forbidden("SEND") and not s.has("MESSAGE", "WRONG"):
        add("where_is_my_order", 0.8)  # "did you ship it?"
    if s.has("DELAY") and s.has("ORDER"):
        add("where_is_my_order", 0.85)
    if s.has("LOCATION") and not s.has("CHANGE", "NEW", "WRONG"):
        add("where_is_my_order", 0.85)
    if s.has("WAIT") or (s.has("STILL") and s.has("ORDER", "DELIVERY")):
        add("where_is_my_order", 0.85 if s.has("ORDER", "DELIVERY", "ARRIVE") else 0.7)
    if s.has("DELIVERY") and s.has("DATE", "TODAY"):
        add("where_is_my_order", 0.85)
    elif s.has("TODAY") and s.free("ARRIVE"):
        add("where_is_my_order", 0.8)
    if s.has("ORDER") and s.free("ARRIVE") and not s.has("OTHER_TOPIC"):
        add("where_is_my_order", 0.7)
    if s.has("UPDATE", "INFO") and s.has("ORDER"):
        add("where_is_my_order", 0.78)
    if s.free("CANCEL"):
        add("cancel_order", 0.95)
    if s.negated("WANT") and not s.has("MESSAGE", "WRONG", "SIZE", "COLOUR", "TALK"):
        add("cancel_order", 0.8)
    if s.free("STOP") and s.has("ORDER", "DELIVERY") and not s.has("MESSAGE", "WHY"):
        add("cancel_order", 0.85)
    if s.forbidden("SEND") and not s.has("MESSAGE"):
        add("cancel_order", 0.82)


def _returns(s: _Signals, add: _Add) -> None:
    if s.free("RETURN", "EXCHANGE"):
        add("return_or_exchange", 0.93)
    if s.has("REFUND") or (s.has("MONEY") and s.has("BACK", "WHERE")):
        add("return_or_exchange", 0.94)
    if s.has("BACK") and not s.has("START", "MESSAGE"):  # "wapas lo": an explicit request
        add("return_or_exchange", 0.88 if s.has("TAKE", "ITEM", "WANT") else 0.7)
    if s.has("WRONG") and s.has("ITEM", "ORDER", "COLOUR", "SIZE") and not s.has("ADDRESS", "ADDRESS_WEAK"):
        add("return_or_exchange", 0.9)
    if s.has("DEFECT") and not s.has("PACKAGING"):
        add("return_or_exchange", 0.85)
    if s.has("MISSING") and not s.has("ADDRESS"):
        add("return_or_exchange", 0.85 if s.has("ITEM", "ORDER") else 0.8)
    if (s.has("SIZE") and s.has("SIZE_WRONG")) or s.negated("FIT"):
        add("return_or_exchange", 0.85)
    if s.has("CHANGE") and s.has("SIZE", "COLOUR", "ITEM") and not s.has("ADDRESS", "ADDRESS_WEAK"):
        add("return_or_exchange", 0.88)


def _address_and_people(s: _Signals, add: _Add) -> None:
    change = s.has("CHANGE", "UPDATE", "WRONG", "NEW", "ADD")
    if s.has("ADDRESS") or (s.has("LOCATION") and change):
        add("change_address", 0.93 if change else 0.85 if s.has("SEND", "ARRIVE", "DELIVERY") else 0.65)
    elif s.has("PLACE") and s.has("NEW", "INSTEAD") and s.has("SEND", "ARRIVE", "DELIVERY"):
        add("change_address", 0.85)  # "naye ghar pe bhejo"
    elif s.has("INSTEAD") and s.has("SEND", "ARRIVE"):
        add("change_address", 0.8)
    elif s.has("ADDRESS_WEAK") and change:
        add("change_address", 0.88)
    if s.free("HUMAN"):
        add("talk_to_human", 0.9)
    if s.has("TALK"):
        add("talk_to_human", 0.9 if s.has("SOMEONE", "HUMAN") else 0.75)
    if s.free("CALL") and not s.has("STOP"):
        add("talk_to_human", 0.85)
    if s.has("NUMBER") and s.has("WHERE"):
        add("other", 0.85)  # "where did you get my number?"
    elif s.has("NUMBER") and s.has("YOUR", "HUMAN") and not s.has("REMOVE"):
        add("talk_to_human", 0.85)
    if s.has("BOT"):
        add("talk_to_human", 0.75)
    if s.has("NUMBER") and s.has("WRONG"):
        add("other", 0.85)


def _chat(s: _Signals, add: _Add) -> None:
    if s.has("PACKAGING") and s.has("DEFECT", "NEGATIVE"):
        add("feedback", 0.8)  # a complaint about the packing, the goods being fine
    if s.has("RATING"):
        add("feedback", 0.9)
    if s.has("POSITIVE", "NEGATIVE") and not s.only("ACK"):
        short = len(s.content()) <= 4
        add("feedback", 0.86 if s.has("SUBJECT") else 0.78 if short else 0.7)
    if s.has("GREET", "THANKS"):
        only = s.only("GREET", "THANKS", "ACK", "YES")
        add("greeting", 0.92 if only else 0.5 if s.has("THANKS") else 0.45)
    if s.only("ACK"):
        add("other", 0.75)
    if s.has("OTHER_TOPIC"):
        add("other", 0.7)
