"""After a parcel starts back to the shop: the customer asks for it again or for a refund; staff take it up.

The `order_rto_initiated` template's quick replies carry `rto:reorder:<order id>` and `rto:refund:<order id>`.
Neither can be done by a bot alone (a new shipment, money back), so each opens one case for staff and the
customer is told who will be in touch.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from orderwire.bot.turn import Outgoing, Turn
from orderwire.domain.events import CustomerReplied
from orderwire.domain.interactive import SessionMessage, Style
from orderwire.domain.lifecycle import Escalation, Outcome
from orderwire.domain.messages import language_for
from orderwire.domain.model import Order

PREFIX = "rto:"

_WORDS = {
    "en": {
        "reorder": "Thank you. Our team will contact you today to send order {number} again.",
        "refund": "Thank you. Our team will contact you today about the refund for order {number}.",
    },
    "hi": {
        "reorder": "धन्यवाद। ऑर्डर {number} फिर से भेजने के लिए हमारी टीम आज आपसे संपर्क करेगी।",
        "refund": "धन्यवाद। ऑर्डर {number} के रिफ़ंड के बारे में हमारी टीम आज आपसे संपर्क करेगी।",
    },
}


def respond(order: Order, reply: CustomerReplied, now: datetime, window_open: bool) -> Turn:
    """Hand the customer's wish to staff once, and tell them so while the window is open."""
    choice = reply.reply_id.removeprefix(PREFIX).partition(":")[0]
    if choice not in ("reorder", "refund"):
        return Turn(order, Outcome.IGNORED, f"RTO: unknown choice {choice!r}")
    detail = {"choice": choice, "chosen_at": reply.occurred_at.isoformat()}
    case = Escalation(choice, "", f"rto:{choice}", detail)
    turn = Turn(order, Outcome.APPLIED, f"RTO: the customer asks for a {choice}", escalations=(case,))
    if not window_open:
        return turn
    text = _WORDS[language_for(order.customer.language)][choice].format(number=order.number)
    return dataclasses.replace(
        turn, sends=(Outgoing("rto", f"rto:{choice}", SessionMessage(Style.TEXT, text)),)
    )
