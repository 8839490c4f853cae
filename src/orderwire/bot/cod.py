"""The cash-on-delivery confirmation dialogue: the customer's tap on the COD request or its reminder.

The `order_cod_confirm` and `order_cod_reminder` templates' quick replies carry `cod:confirm:<order id>`
and `cod:cancel:<order id>`. `lifecycle.cod_answer` decides what follows (the normal confirmation, or
the order cancelled here and in the shop); a tap that comes too late (confirm after a cancellation,
cancel after dispatch) changes nothing and gets a short explanation instead.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from orderwire.bot.turn import Outgoing, Turn
from orderwire.domain.events import CustomerReplied
from orderwire.domain.interactive import SessionMessage, Style
from orderwire.domain.lifecycle import Outcome, cod_answer
from orderwire.domain.messages import language_for
from orderwire.domain.model import STAGE_RANK, CodStatus, Order, PaymentMethod, Stage
from orderwire.domain.policy import ShopPolicy

PREFIX = "cod:"

_WORDS = {
    "en": {
        "cancelled": "Order {number} has already been cancelled, so there is nothing more to do. "
        "You are welcome to place a new order any time.",
        "shipped": "Order {number} is already on its way, so it can no longer be cancelled here. "
        "Our team will contact you about it.",
        "confirmed_shipped": "Thank you for confirming. Order {number} is already on its way.",
    },
    "hi": {
        "cancelled": "ऑर्डर {number} पहले ही रद्द हो चुका है, इसलिए अब कुछ करने की ज़रूरत नहीं है। "
        "आप कभी भी नया ऑर्डर कर सकते हैं।",
        "shipped": "ऑर्डर {number} भेजा जा चुका है, इसलिए अब इसे यहाँ से रद्द नहीं किया जा सकता। "
        "हमारी टीम इस बारे में आपसे संपर्क करेगी।",
        "confirmed_shipped": "कन्फ़र्म करने के लिए धन्यवाद। ऑर्डर {number} भेजा जा चुका है।",
    },
}


def respond(
    order: Order, reply: CustomerReplied, now: datetime, policy: ShopPolicy, window_open: bool
) -> Turn:
    """Answer one `cod:` tap: confirm or cancel the order, or explain why it is too late."""
    choice, _, order_id = reply.reply_id.removeprefix(PREFIX).partition(":")
    if choice not in ("confirm", "cancel"):
        return Turn(order, Outcome.IGNORED, f"COD: unknown choice {choice!r}")
    if order_id != order.order_id:
        return Turn(order, Outcome.STALE, "COD answer for another order")
    if order.payment is not PaymentMethod.COD or order.cod_status is CodStatus.NONE:
        return Turn(order, Outcome.IGNORED, "COD answer for an order never asked to confirm")
    confirm = choice == "confirm"
    decision = cod_answer(order, confirm, reply.occurred_at, now, policy)
    turn = Turn(decision.order, decision.outcome, decision.note, decision=decision)
    explanation = _explanation(order, confirm, decision.outcome)
    if explanation is None or not window_open:
        return turn
    text = _WORDS[language_for(order.customer.language)][explanation].format(number=order.number)
    said = Outgoing("cod", f"cod:{explanation}", SessionMessage(Style.TEXT, text))
    return dataclasses.replace(turn, sends=(said,))


def _explanation(before: Order, confirm: bool, outcome: Outcome) -> str | None:
    """Which explanation a tap needs: none when it did what it says (or repeats the same answer)."""
    shipped = STAGE_RANK[before.stage] >= STAGE_RANK[Stage.DISPATCHED]
    if outcome is Outcome.STALE:
        return "cancelled" if before.stage is Stage.CANCELLED else "shipped"
    if confirm and shipped and outcome is Outcome.APPLIED:
        return "confirmed_shipped"
    return None
