"""Opt-out and opt-in keywords (STOP / START), in English, Hindi and Hinglish.

Only a message that is nothing but the keyword counts, so "don't stop the delivery" is not an opt-out.
"""

from __future__ import annotations

import re

OPT_OUT = frozenset({"stop", "unsubscribe", "opt out", "optout", "stop all", "band karo", "बंद करो", "बंद"})
OPT_IN = frozenset({"start", "subscribe", "opt in", "optin", "unstop", "shuru karo", "शुरू करो", "शुरू"})


def consent_change(text: str) -> bool | None:
    """False for an opt-out keyword, True for an opt-in keyword, None for anything else."""
    words = " ".join(re.sub(r"[!?.,;:'\"()\[\]।-]", " ", text.lower()).split())
    if words in OPT_OUT:
        return False
    if words in OPT_IN:
        return True
    return None
