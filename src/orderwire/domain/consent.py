"""Opt-out and opt-in keywords (STOP / START), in English, Hindi and Hinglish.

Only a message that is nothing but the keyword counts, so "don't stop the delivery" is not an opt-out.
"""

from __future__ import annotations

import re

OPT_OUT = frozenset(
    {
        "stop",
        "unsubscribe",
        "opt out",
        "optout",
        "stop all",
        "band karo",
        "band kar do",
        "band",
        "message mat bhejo",
        "messages mat bhejo",
        "mat bhejo",
        "बंद करो",
        "बंद कर दो",
        "बंद",
        "रोको",
        "मैसेज मत भेजो",
        "मत भेजो",
    }
)
OPT_IN = frozenset(
    {
        "start",
        "subscribe",
        "opt in",
        "optin",
        "unstop",
        "shuru karo",
        "shuru",
        "chalu karo",
        "phir se shuru karo",
        "शुरू करो",
        "शुरू",
        "चालू करो",
        "फिर से शुरू करो",
    }
)


def consent_change(text: str) -> bool | None:
    """False for an opt-out keyword, True for an opt-in keyword, None for anything else."""
    words = " ".join(re.sub(r"[!?.,;:'\"()\[\]।-]", " ", text.lower()).split())
    if words in OPT_OUT:
        return False
    if words in OPT_IN:
        return True
    return None


_CONFIRMATION = {
    "en": {
        False: "You will no longer get updates from us on WhatsApp. We will still answer if you write to us. "
        "Reply START to get order updates again.",
        True: "Welcome back: you will get your order updates on WhatsApp again. Reply STOP to turn them off.",
    },
    "hi": {
        False: "अब आपको WhatsApp पर हमारे अपडेट नहीं मिलेंगे। आप लिखेंगे तो हम जवाब ज़रूर देंगे। "
        "अपडेट फिर से पाने के लिए START लिखें।",
        True: "स्वागत है: अब आपको WhatsApp पर फिर से ऑर्डर अपडेट मिलेंगे। बंद करने के लिए STOP लिखें।",
    },
}


def confirmation(opted_in: bool, language: str) -> str:
    """What the customer is told, once, when they opt out or back in (English or Hindi)."""
    base = language.lower().split("-")[0].split("_")[0]
    return _CONFIRMATION["hi" if base == "hi" else "en"][opted_in]
