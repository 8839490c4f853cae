"""The customer asks to cancel: confirmed with a tap, then cancelled in the shop and through the lifecycle.

A typed request asks which order (a list of `cancel:pick:<order id>` rows) when several are open, then
asks to confirm (`cancel:yes:<order id>` / `cancel:no:<order id>`). Confirmed before dispatch, the order is
cancelled through `lifecycle.decide` (its `order_cancelled` template is the confirmation the customer gets)
and the shop is asked to cancel it too (a SHOP_CANCEL vendor call). After dispatch it can no longer be
stopped: the customer is told so and offered a return.
"""

from __future__ import annotations

from datetime import datetime

from orderwire.bot.chat import Chat, is_open, pick_order, stage_words
from orderwire.bot.turn import Turn, say
from orderwire.domain.events import CustomerReplied, OrderCancelled
from orderwire.domain.interactive import Choice, SessionMessage, Style
from orderwire.domain.lifecycle import SHOP_CANCEL, Outcome, VendorCall, decide
from orderwire.domain.messages import language_for
from orderwire.domain.model import STAGE_RANK, Order, Stage
from orderwire.domain.policy import ShopPolicy

PREFIX = "cancel:"
REASON = "customer asked on WhatsApp"

_WORDS = {
    "en": {
        "confirm": "Cancel order {number} ({items})?",
        "yes": "Yes, cancel it",
        "no": "No, keep it",
        "which": "Which order should we cancel? Pick it below.",
        "button": "Choose an order",
        "kept": "Okay, order {number} stays as it is.",
        "shipped": "Order {number} has already left our warehouse, so it can no longer be cancelled. "
        "Once it arrives you can return it: tap below and we will help.",
        "return": "Return it",
        "person": "Talk to a person",
        "closed": "Order {number} is {stage}, so there is nothing to cancel.",
    },
    "hi": {
        "confirm": "क्या ऑर्डर {number} ({items}) रद्द करें?",
        "yes": "हाँ, रद्द करें",
        "no": "नहीं, रहने दें",
        "which": "कौन सा ऑर्डर रद्द करें? नीचे से चुनें।",
        "button": "ऑर्डर चुनें",
        "kept": "ठीक है, ऑर्डर {number} जैसा है वैसा रहेगा।",
        "shipped": "ऑर्डर {number} हमारे गोदाम से निकल चुका है, इसलिए अब रद्द नहीं हो सकता। "
        "पहुँचने के बाद आप इसे लौटा सकते हैं: नीचे दबाएँ, हम मदद करेंगे।",
        "return": "वापस करें",
        "person": "किसी से बात करें",
        "closed": "ऑर्डर {number} {stage}, इसलिए रद्द करने को कुछ नहीं है।",
    },
}


def _words(order: Order) -> dict[str, str]:
    return _WORDS[language_for(order.customer.language)]


def _dispatched(order: Order) -> bool:
    return STAGE_RANK[order.stage] >= STAGE_RANK[Stage.DISPATCHED]


def ask(order: Order, chat: Chat, reply: CustomerReplied, window_open: bool) -> Turn:
    """A typed 'cancel my order': which order (when several are open), then confirm."""
    others = chat.open_orders
    if len(others) > 1 or (len(others) == 1 and others[0].order_id != order.order_id):
        lang = language_for(order.customer.language)
        words = _words(order)
        message = pick_order(words["which"], words["button"], f"{PREFIX}pick:", others, lang)
        turn = Turn(order, Outcome.APPLIED, "cancel: asked which order")
        return say(turn, f"bot:{reply.wamid}", "which", message, window_open, "cancel", "")
    return _confirm(order, reply, window_open)


def respond(
    order: Order, reply: CustomerReplied, now: datetime, policy: ShopPolicy, window_open: bool
) -> Turn:
    """A tap in the cancel dialogue: an order picked, yes or no."""
    choice = reply.reply_id.removeprefix(PREFIX).partition(":")[0]
    if choice == "pick":
        return _confirm(order, reply, window_open)
    if choice == "no":
        text = _words(order)["kept"].format(number=order.number)
        turn = Turn(order, Outcome.APPLIED, "cancel: the customer kept the order")
        return say(
            turn, f"bot:{reply.wamid}", "kept", SessionMessage(Style.TEXT, text), window_open, "cancel", ""
        )
    if choice != "yes":
        return Turn(order, Outcome.IGNORED, f"cancel: unknown choice {choice!r}")
    if order.stage is Stage.CANCELLED and order.cancel_reason == REASON:
        return Turn(order, Outcome.DUPLICATE, "cancel: already cancelled at the customer's request")
    if not is_open(order.stage) or _dispatched(order):
        return _too_late(order, reply, window_open)
    decision = decide(order, OrderCancelled(reply.occurred_at, REASON), now, policy)
    call = VendorCall(SHOP_CANCEL, "shop_cancel", {"order_id": order.order_id, "reason": REASON})
    return Turn(
        decision.order,
        decision.outcome,
        f"cancel: {decision.note} at the customer's request",
        calls=(call,),
        decision=decision,
    )


def _confirm(order: Order, reply: CustomerReplied, window_open: bool) -> Turn:
    if not is_open(order.stage) or _dispatched(order):
        return _too_late(order, reply, window_open)
    words = _words(order)
    body = words["confirm"].format(number=order.number, items=order.item_summary)
    buttons = (
        Choice(f"{PREFIX}yes:{order.order_id}", words["yes"]),
        Choice(f"{PREFIX}no:{order.order_id}", words["no"]),
    )
    turn = Turn(order, Outcome.APPLIED, "cancel: asked to confirm")
    message = SessionMessage(Style.BUTTONS, body[:1024], buttons)
    return say(turn, f"bot:{reply.wamid}", "confirm", message, window_open, "cancel", "")


def _too_late(order: Order, reply: CustomerReplied, window_open: bool) -> Turn:
    """Dispatched: explain and offer a return. Delivered, cancelled: nothing to cancel."""
    words = _words(order)
    if order.stage is Stage.CANCELLED or not _dispatched(order):
        stage = stage_words(order.stage, order.customer.language)
        message = SessionMessage(Style.TEXT, words["closed"].format(number=order.number, stage=stage))
    else:
        buttons = (
            Choice(f"return:{order.order_id}", words["return"]),
            Choice("menu:human", words["person"]),
        )
        message = SessionMessage(Style.BUTTONS, words["shipped"].format(number=order.number), buttons)
    turn = Turn(order, Outcome.STALE, f"cancel: not possible once {order.stage.value}")
    return say(turn, f"bot:{reply.wamid}", "too_late", message, window_open, "cancel", "")
