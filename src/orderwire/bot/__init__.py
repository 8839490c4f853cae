"""Dialogues with the customer: pure functions from (order, reply, now) to what to say and do next."""

from __future__ import annotations

from datetime import datetime

from orderwire.bot import address, ndr, returns, rto
from orderwire.bot.turn import Turn
from orderwire.domain.events import CustomerReplied
from orderwire.domain.lifecycle import Outcome
from orderwire.domain.model import Order
from orderwire.domain.policy import ShopPolicy


def respond(
    order: Order, reply: CustomerReplied, now: datetime, policy: ShopPolicy, window_open: bool
) -> Turn:
    """The dialogue named by the reply id's prefix ('ndr:...') answers, or the one awaiting typed text;
    other messages are only recorded."""
    if reply.reply_id.startswith(ndr.PREFIX):
        return ndr.respond(order, reply, now, policy, window_open)
    if reply.reply_id.startswith(rto.PREFIX):
        return rto.respond(order, reply, now, window_open)
    # Returns (returns helper): `ret:` taps, the delivered message's "Report a problem", photos.
    if reply.reply_id.startswith(returns.PREFIX):
        return returns.respond(order, reply, now, policy, window_open)
    if reply.reply_id.startswith(returns.PROBLEM_PREFIX):
        return returns.start(order, now, policy, window_open)
    if reply.media_id and returns.awaiting_photos(order) is not None:
        return returns.photo(order, reply, policy, window_open)
    shipment = address.awaiting(order)
    if shipment is not None and reply.message_type == "text" and not reply.reply_id:
        return address.respond_text(order, shipment, reply, window_open)
    return Turn(order, Outcome.IGNORED, f"customer {reply.message_type} recorded (no dialogue for it)")
