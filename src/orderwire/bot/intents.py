"""PLACEHOLDER intent classifier — replaced at merge by the classifier branch's `orderwire/bot/intents.py`.

Only here so the conversation dialogues (bot/intent_reply.py) and their tests run on this branch: a small
keyword rule set with the same interface, `classify(text) -> Classification(intent, confidence)`, over the
same intents. The lead keeps the classifier branch's version of this file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Classification:
    """The intent a message most likely carries, and how sure the classifier is (0 to 1)."""

    intent: str
    confidence: float


_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("opt_out", (r"^(stop|unsubscribe)\b", r"\bstop (sending|messag)", r"\bmat bhejo\b")),
    ("opt_in", (r"^(start|subscribe)$",)),
    ("talk_to_human", (r"\b(human|agent|person|someone|call me|customer care)\b", r"baat kar")),
    ("cancel_order", (r"\bcancel", r"\bradd\b", r"रद्द")),
    ("change_address", (r"\b(change|update|wrong|new)\b.*\baddress\b", r"\baddress\b.*\b(change|badal)")),
    ("return_or_exchange", (r"\b(return|exchange|refund|replace)", r"wapas", r"वापस")),
    ("where_is_my_order", (r"\bwhere\b", r"\b(status|track|tracking)\b", r"\bkab\b", r"\bkahan\b", r"कहाँ")),
    ("feedback", (r"\bstars?\b", r"⭐", r"\b(loved|love|great|bad|poor|terrible|excellent)\b")),
    ("greeting", (r"^(hi|hello|hey|namaste|thanks|thank you|thx)\b", r"नमस्ते", r"धन्यवाद")),
)


def classify(text: str) -> Classification:
    """The first intent whose keywords match, else `other`."""
    lowered = " ".join(text.lower().split())
    for intent, patterns in _RULES:
        if any(re.search(p, lowered) for p in patterns):
            return Classification(intent, 0.9)
    return Classification("other", 0.3)
