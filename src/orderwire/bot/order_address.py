"""The customer asks to change the delivery address.

Before dispatch the new address is taken step by step with the questions of bot/address.py (address line,
PIN code, landmark and another phone, both skippable, then Confirm or Start over; buttons carry
`addr:<skip|ok|again>:<order id>`), kept on the order, and handed to staff to update in the shop (the
shop's system is where the label is printed). During a failed delivery it is the NDR dialogue's
change-address path (the courier gets it). Once dispatched otherwise, staff take it up with the courier.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from orderwire.bot import address
from orderwire.bot.chat import is_open, stage_words
from orderwire.bot.turn import Turn, say
from orderwire.domain.events import CustomerReplied
from orderwire.domain.interactive import Choice, SessionMessage, Style
from orderwire.domain.lifecycle import Escalation, Outcome
from orderwire.domain.messages import language_for
from orderwire.domain.model import STAGE_RANK, Order, ShipmentStatus, Stage

PREFIX = "addr:"
STEPS = ("line", "pincode", "landmark", "phone", "confirm")
STEP_EXPIRES = timedelta(hours=2)

_WORDS = {
    "en": {
        "done": "Thanks: order {number} will go to the new address. Our team is updating it now.",
        "shipped": "Order {number} is already with the courier. We have passed your new address to our "
        "team; they will try to redirect it and let you know.",
        "closed": "Order {number} is {stage}, so its address can no longer change.",
    },
    "hi": {
        "done": "धन्यवाद: ऑर्डर {number} नए पते पर जाएगा। हमारी टीम इसे अभी अपडेट कर रही है।",
        "shipped": "ऑर्डर {number} कूरियर के पास है। हमने आपका नया पता टीम को दे दिया है; वे इसे बदलवाने "
        "की कोशिश करेंगे और आपको बताएँगे।",
        "closed": "ऑर्डर {number} {stage}, इसलिए अब इसका पता नहीं बदल सकता।",
    },
}


def _lang(order: Order) -> str:
    return language_for(order.customer.language)


def awaiting(order: Order, now: datetime) -> bool:
    """True while the order waits for a typed answer of this dialogue (for STEP_EXPIRES after asking:
    a customer who walked away must not have tomorrow's question taken for an address)."""
    if not (order.bot_step.startswith(PREFIX) and order.bot_step.removeprefix(PREFIX) in STEPS[:4]):
        return False
    return order.bot_asked_at is None or now - order.bot_asked_at <= STEP_EXPIRES


def start(order: Order, reply: CustomerReplied, window_open: bool) -> Turn:
    """A typed 'change my address': the right path for where the order stands."""
    ndr = next(
        (
            s
            for s in order.shipments
            if s.status is ShipmentStatus.DELIVERY_FAILED
            and s.attempt > 0
            and not (s.ndr_attempt == s.attempt and s.ndr_choice)
        ),
        None,
    )
    if ndr is not None:
        return address.respond(order, ndr, "change_address", reply, window_open)
    words = _WORDS[_lang(order)]
    if not is_open(order.stage) or order.stage is Stage.RTO:
        text = words["closed"].format(number=order.number, stage=stage_words(order.stage, _lang(order)))
        turn = Turn(order, Outcome.STALE, f"change address: not possible once {order.stage.value}")
        return say(
            turn, f"bot:{reply.wamid}", "closed", SessionMessage(Style.TEXT, text), window_open, "address", ""
        )
    if STAGE_RANK[order.stage] >= STAGE_RANK[Stage.DISPATCHED]:
        detail = {"asked_at": reply.occurred_at.isoformat(), "message": reply.text[:500]}
        case = Escalation(
            "address_change_after_dispatch", "", f"address_after_dispatch:{reply.wamid}", detail
        )
        text = words["shipped"].format(number=order.number)
        turn = Turn(
            order, Outcome.APPLIED, "change address after dispatch: handed to staff", escalations=(case,)
        )
        return say(
            turn,
            f"bot:{reply.wamid}",
            "shipped",
            SessionMessage(Style.TEXT, text),
            window_open,
            "address",
            "",
        )
    return _ask(order, "line", (), reply, window_open)


def respond(order: Order, reply: CustomerReplied, window_open: bool) -> Turn:
    """A tap: skip an optional step, confirm, or start over."""
    choice = reply.reply_id.removeprefix(PREFIX).partition(":")[0]
    step = order.bot_step.removeprefix(PREFIX) if order.bot_step.startswith(PREFIX) else ""
    if choice == "again" and step == "confirm":
        return _ask(order, "line", (), reply, window_open)
    if choice == "skip" and step in ("landmark", "phone"):
        return _answer(order, "", reply, window_open)
    if choice == "ok" and step == "confirm":
        return _confirmed(order, reply, window_open)
    return Turn(order, Outcome.STALE, f"change address: {choice!r} does not fit step {step!r}")


def respond_text(order: Order, reply: CustomerReplied, window_open: bool) -> Turn:
    """A typed answer to the step awaited."""
    return _answer(order, " ".join(reply.text.split()), reply, window_open)


def _answer(order: Order, text: str, reply: CustomerReplied, window_open: bool) -> Turn:
    step, answers = order.bot_step.removeprefix(PREFIX), order.bot_answers
    if step == "line":
        if len(text) < 8 or address.PINCODE.fullmatch(text):
            return _retry(order, "line_bad", reply, window_open)
        return _ask(order, "pincode", (text[:200],), reply, window_open)
    if step == "pincode":
        pincode = text.replace(" ", "")
        if not address.PINCODE.fullmatch(pincode):
            return _retry(order, "pincode_bad", reply, window_open)
        return _ask(order, "landmark", (*answers, pincode), reply, window_open)
    if step == "landmark":
        return _ask(order, "phone", (*answers, text[:100]), reply, window_open)
    phone = address.mobile(text) if text else ""
    if text and not phone:
        return _retry(order, "phone_bad", reply, window_open)
    return _ask(order, "confirm", (*answers, phone), reply, window_open)


def _skip(order: Order, words: dict[str, str]) -> tuple[Choice, ...]:
    return (Choice(f"{PREFIX}skip:{order.order_id}", words["skip"]),)


def _ask(
    order: Order, step: str, answers: tuple[str, ...], reply: CustomerReplied, window_open: bool
) -> Turn:
    words = address.words(order.customer.language)
    updated = dataclasses.replace(
        order, bot_step=f"{PREFIX}{step}", bot_answers=answers, bot_asked_at=reply.occurred_at
    )
    if step in ("line", "pincode"):
        message = SessionMessage(Style.TEXT, words[step].format(number=order.number))
    elif step in ("landmark", "phone"):
        message = SessionMessage(Style.BUTTONS, words[step], _skip(order, words))
    else:
        line, pincode, landmark, phone = answers
        shown = "\n".join(
            [f"{line}, {pincode}"]
            + ([f"{words['landmark_label']}: {landmark}"] if landmark else [])
            + ([f"{words['phone_label']}: {phone}"] if phone else [])
        )
        buttons = (
            Choice(f"{PREFIX}ok:{order.order_id}", words["ok"]),
            Choice(f"{PREFIX}again:{order.order_id}", words["again"]),
        )
        body = words["confirm_order"].format(number=order.number, address=shown)
        message = SessionMessage(Style.BUTTONS, body, buttons)
    turn = Turn(updated, Outcome.APPLIED, f"change address: step {step}")
    return say(turn, f"bot:{reply.wamid}", step, message, window_open, "address", "")


def _retry(order: Order, key: str, reply: CustomerReplied, window_open: bool) -> Turn:
    words = address.words(order.customer.language)
    if order.bot_step == f"{PREFIX}phone":
        message = SessionMessage(Style.BUTTONS, words[key], _skip(order, words))
    else:
        message = SessionMessage(Style.TEXT, words[key])
    turn = Turn(order, Outcome.IGNORED, f"change address: {order.bot_step} not valid, asked again")
    return say(turn, f"bot:{reply.wamid}", key, message, window_open, "address", "")


def _confirmed(order: Order, reply: CustomerReplied, window_open: bool) -> Turn:
    line, pincode, landmark, phone = order.bot_answers
    was = order.address
    new = dataclasses.replace(
        was,
        line1=line,
        line2="",
        pincode=pincode,
        landmark=landmark,
        city=was.city if pincode == was.pincode else "",
    )
    updated = dataclasses.replace(order, address=new, bot_step="", bot_answers=())
    detail = {
        "address": line,
        "pincode": pincode,
        "landmark": landmark,
        "phone": phone,
        "was": ", ".join(p for p in (was.line1, was.line2, was.city, was.pincode) if p),
        "asked_at": reply.occurred_at.isoformat(),
    }
    case = Escalation("update_shop_address", "", f"address:{reply.wamid}", detail)
    text = _WORDS[_lang(order)]["done"].format(number=order.number)
    turn = Turn(updated, Outcome.APPLIED, "change address: new address recorded", escalations=(case,))
    return say(
        turn, f"bot:{reply.wamid}", "done", SessionMessage(Style.TEXT, text), window_open, "address", ""
    )
