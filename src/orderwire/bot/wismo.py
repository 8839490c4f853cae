"""Where is my order: the live status of one order, or a list to pick from when several are open.

The answer says the stage in words, where the parcel was last scanned, the expected delivery day and the
tracking link. With more than one open order the customer picks from a list whose rows carry
`wismo:<order id>`; the pick is routed to that order and answered from it.
"""

from __future__ import annotations

from orderwire.bot.chat import Chat, OrderBrief, is_open, pick_order, stage_words
from orderwire.bot.turn import Turn, say
from orderwire.domain.events import CustomerReplied
from orderwire.domain.interactive import SessionMessage, Style
from orderwire.domain.lifecycle import Outcome
from orderwire.domain.messages import format_day, language_for
from orderwire.domain.model import Order, Stage

PREFIX = "wismo:"

_WORDS = {
    "en": {
        "status": "Order {number} is {stage}.",
        "where": "Last scanned at {place}.",
        "edd": "Expected delivery: {day}.",
        "delivered": "Delivered on {day}.",
        "track": "Track it here: {url}",
        "which": "Which order do you mean? Pick it below.",
        "button": "Choose an order",
    },
    "hi": {
        "status": "ऑर्डर {number} {stage}।",
        "where": "आख़िरी स्कैन: {place}।",
        "edd": "डिलीवरी की अनुमानित तारीख़: {day}।",
        "delivered": "{day} को डिलीवर हुआ।",
        "track": "यहाँ ट्रैक करें: {url}",
        "which": "आप किस ऑर्डर के बारे में पूछ रहे हैं? नीचे से चुनें।",
        "button": "ऑर्डर चुनें",
    },
}


def status_text(order: Order, tracking_url: str) -> str:
    """The order's live status in the customer's language."""
    lang = language_for(order.customer.language)
    words = _WORDS[lang]
    lines = [words["status"].format(number=order.number, stage=stage_words(order.stage, lang))]
    forward = [s for s in order.shipments if s.forward]
    place = next((s.last_location for s in reversed(forward) if s.last_location), "")
    if place and order.stage not in (Stage.DELIVERED, Stage.FOLLOWED_UP, Stage.CANCELLED):
        lines.append(words["where"].format(place=place))
    if order.stage in (Stage.DELIVERED, Stage.FOLLOWED_UP) and order.delivered_at is not None:
        lines.append(words["delivered"].format(day=format_day(order.delivered_at.date(), lang)))
    elif is_open(order.stage) and order.stage not in (Stage.RTO, Stage.LOST):
        lines.append(words["edd"].format(day=format_day(order.expected_delivery, lang)))
    if tracking_url and order.stage is not Stage.CANCELLED:
        lines.append(words["track"].format(url=tracking_url))
    return "\n".join(lines)


def ask(order: Order, chat: Chat, reply: CustomerReplied, window_open: bool) -> Turn:
    """A typed 'where is my order?': this order's status, or a list when several orders are open."""
    others = chat.open_orders
    if len(others) > 1 or (len(others) == 1 and others[0].order_id != order.order_id):
        return _which(order, others, reply, window_open)
    return answer(order, chat, reply, window_open)


def answer(order: Order, chat: Chat, reply: CustomerReplied, window_open: bool) -> Turn:
    """The status of this order (the one picked, or the only one)."""
    text = status_text(order, chat.tracking_url)
    turn = Turn(order, Outcome.APPLIED, f"where is my order: told {order.stage.value}")
    return say(
        turn, f"bot:{reply.wamid}", "wismo", SessionMessage(Style.TEXT, text), window_open, "wismo", ""
    )


def _which(order: Order, orders: tuple[OrderBrief, ...], reply: CustomerReplied, window_open: bool) -> Turn:
    lang = language_for(order.customer.language)
    words = _WORDS[lang]
    body = words["which"]
    message = pick_order(body, words["button"], PREFIX, orders, lang)
    turn = Turn(order, Outcome.APPLIED, f"where is my order: {len(orders)} open orders, asked which")
    return say(turn, f"bot:{reply.wamid}", "which", message, window_open, "wismo", "")
