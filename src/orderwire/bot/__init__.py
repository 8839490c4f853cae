"""Dialogues with the customer: pure functions from (order, reply, now) to what to say and do next."""

from __future__ import annotations

from datetime import datetime

from orderwire.bot import address, cod, intent_reply, ndr, order_address, returns, rto
from orderwire.bot.chat import Chat
from orderwire.bot.turn import Turn
from orderwire.domain.events import CustomerReplied
from orderwire.domain.lifecycle import Outcome
from orderwire.domain.model import Order
from orderwire.domain.policy import ShopPolicy


def respond(
    order: Order,
    reply: CustomerReplied,
    now: datetime,
    policy: ShopPolicy,
    window_open: bool,
    chat: Chat | None = None,
) -> Turn:
    """The dialogue named by the reply id's prefix ('ndr:...') answers, or the one awaiting typed text;
    with a `chat` (the customer's conversation), typed messages go to the intent dialogues; other messages
    are only recorded."""
    if reply.reply_id.startswith(ndr.PREFIX):
        return ndr.respond(order, reply, now, policy, window_open)
    if reply.reply_id.startswith(rto.PREFIX):
        return rto.respond(order, reply, now, window_open)
    if reply.reply_id.startswith(cod.PREFIX):  # commerce
        return cod.respond(order, reply, now, policy, window_open)
    # Returns: `ret:` taps, the delivered message's "Report a problem", photos for an open return.
    if reply.reply_id.startswith(returns.PREFIX):
        return returns.respond(order, reply, now, policy, window_open)
    if reply.reply_id.startswith(returns.PROBLEM_PREFIX):
        return returns.start(order, now, policy, window_open)
    if reply.media_id and returns.awaiting_photos(order) is not None:
        return returns.photo(order, reply, policy, window_open)
    if chat is not None and intent_reply.handles(reply.reply_id):
        return intent_reply.respond_tap(order, reply, now, policy, window_open, chat)
    typed = reply.message_type == "text" and not reply.reply_id
    shipment = address.awaiting(order)
    if shipment is not None and typed:
        return address.respond_text(order, shipment, reply, window_open)
    if chat is not None and typed and reply.text.strip():
        return intent_reply.respond_text(order, reply, now, policy, window_open, chat)
    return Turn(order, Outcome.IGNORED, f"customer {reply.message_type} recorded (no dialogue for it)")


def awaits_text(order: Order, now: datetime) -> bool:
    """True when a dialogue of this order waits for the customer to type an answer."""
    return address.awaiting(order) is not None or order_address.awaiting(order, now)
