"""Taking a new delivery address after a failed attempt, one step at a time, then sending it to the courier.

Steps: the address line (typed), the PIN code (typed, six digits, not starting with 0), a landmark and another
phone number (typed, or Skip), then Confirm or Start over. Confirmed, it goes to the courier as a re-attempt
with `address1`, `address2` (landmark, PIN code) and `phone`; a PIN code other than the order's is also handed
to staff, since the courier may not serve it from the same hub. Every question is a session message: the
customer's tap on Change address opened the window.
"""

from __future__ import annotations

import dataclasses
import re

from orderwire.bot.turn import CourierRequest, Turn, say
from orderwire.domain.events import CustomerReplied
from orderwire.domain.interactive import Choice, SessionMessage, Style
from orderwire.domain.lifecycle import Escalation, Outcome
from orderwire.domain.messages import language_for
from orderwire.domain.model import Order, Shipment, ShipmentStatus

CHOICES = ("change_address", "skip", "address_ok")
TEXT_STEPS = ("line", "pincode", "landmark", "phone")
PINCODE = re.compile(r"[1-9][0-9]{5}")

_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "line": "Please type the new address for order {number}: house or flat, street and area "
        "(the PIN code comes next).",
        "line_bad": "That looks too short for an address. Please type the house or flat, street and area.",
        "pincode": "Thanks. Now the 6-digit PIN code of this address.",
        "pincode_bad": "That is not a PIN code: please type the 6 digits, e.g. 560001.",
        "landmark": "Is there a landmark near it? Type it, or tap Skip.",
        "phone": "Another phone number the courier can call? Type it, or tap Skip.",
        "phone_bad": "That is not a 10-digit mobile number. Type it again, or tap Skip.",
        "confirm": "New address for order {number}:\n{address}\nShall we send it to the courier?",
        "confirm_order": "New address for order {number}:\n{address}\nIs this right?",
        "done": "Done: the courier will try again to deliver order {number} at the new address.",
        "skip": "Skip",
        "ok": "Confirm",
        "again": "Start over",
        "landmark_label": "Landmark",
        "phone_label": "Phone",
    },
    "hi": {
        "line": "कृपया ऑर्डर {number} का नया पता लिखें: मकान या फ़्लैट, गली और इलाका (पिन कोड अगले संदेश में)।",
        "line_bad": "यह पता बहुत छोटा है। कृपया मकान या फ़्लैट, गली और इलाका लिखें।",
        "pincode": "धन्यवाद। अब इस पते का 6 अंकों का पिन कोड लिखें।",
        "pincode_bad": "यह पिन कोड नहीं है: कृपया 6 अंक लिखें, जैसे 560001।",
        "landmark": "पास में कोई पहचान की जगह? लिखें, या Skip दबाएँ।",
        "phone": "कूरियर के लिए कोई और फ़ोन नंबर? लिखें, या Skip दबाएँ।",
        "phone_bad": "यह 10 अंकों का मोबाइल नंबर नहीं है। फिर से लिखें, या Skip दबाएँ।",
        "confirm": "ऑर्डर {number} का नया पता:\n{address}\nक्या हम इसे कूरियर को भेजें?",
        "confirm_order": "ऑर्डर {number} का नया पता:\n{address}\nक्या यह सही है?",
        "done": "हो गया: कूरियर ऑर्डर {number} को नए पते पर फिर से डिलीवर करेगा।",
        "skip": "Skip",
        "ok": "पुष्टि करें",
        "again": "फिर से शुरू करें",
        "landmark_label": "पहचान",
        "phone_label": "फ़ोन",
    },
}


def words(language: str) -> dict[str, str]:
    """The address questions in the customer's language (shared with the before-dispatch change)."""
    return _WORDS[language_for(language)]


def awaiting(order: Order) -> Shipment | None:
    """The parcel whose new address the customer is typing, if any."""
    return next(
        (
            s
            for s in order.shipments
            if s.ndr_step in TEXT_STEPS and s.status is ShipmentStatus.DELIVERY_FAILED
        ),
        None,
    )


def mobile(text: str) -> str:
    """An Indian mobile number as 10 digits, or '' ('+91 98123-45678' and '098123 45678' are fine)."""
    digits = re.sub(r"\D", "", text)
    if len(digits) == 12 and digits.startswith("91"):
        digits = digits[2:]
    elif len(digits) == 11 and digits.startswith("0"):
        digits = digits[1:]
    return digits if len(digits) == 10 and digits[0] in "6789" else ""


def respond(order: Order, shipment: Shipment, choice: str, reply: CustomerReplied, window_open: bool) -> Turn:
    """A tap in the address dialogue: start (or start over), skip an optional step, or confirm."""
    if choice == "change_address":
        return _ask(order, shipment, "line", (), reply, window_open)
    if choice == "skip" and shipment.ndr_step in ("landmark", "phone"):
        return _answer(order, shipment, "", reply, window_open)
    if choice == "address_ok" and shipment.ndr_step == "confirm":
        return _confirmed(order, shipment, reply, window_open)
    return Turn(
        order, Outcome.STALE, f"NDR {shipment.awb}: {choice!r} does not fit step {shipment.ndr_step!r}"
    )


def respond_text(order: Order, shipment: Shipment, reply: CustomerReplied, window_open: bool) -> Turn:
    """A typed answer to the step awaited."""
    return _answer(order, shipment, " ".join(reply.text.split()), reply, window_open)


def _answer(order: Order, shipment: Shipment, text: str, reply: CustomerReplied, window_open: bool) -> Turn:
    step, answers = shipment.ndr_step, shipment.ndr_address
    if step == "line":
        if len(text) < 8 or PINCODE.fullmatch(text):
            return _retry(order, shipment, "line_bad", reply, window_open)
        return _ask(order, shipment, "pincode", (text[:200],), reply, window_open)
    if step == "pincode":
        pincode = text.replace(" ", "")
        if not PINCODE.fullmatch(pincode):
            return _retry(order, shipment, "pincode_bad", reply, window_open)
        return _ask(order, shipment, "landmark", (*answers, pincode), reply, window_open)
    if step == "landmark":
        return _ask(order, shipment, "phone", (*answers, text[:100]), reply, window_open)
    phone = mobile(text) if text else ""
    if text and not phone:
        return _retry(order, shipment, "phone_bad", reply, window_open)
    return _ask(order, shipment, "confirm", (*answers, phone), reply, window_open)


def _ask(
    order: Order,
    shipment: Shipment,
    step: str,
    answers: tuple[str, ...],
    reply: CustomerReplied,
    window_open: bool,
) -> Turn:
    """Move to `step` and put its question."""
    words = _WORDS[language_for(order.customer.language)]
    awb = shipment.awb
    updated = order.with_shipment(dataclasses.replace(shipment, ndr_step=step, ndr_address=answers))
    skip = (Choice(f"ndr:skip:{awb}", words["skip"]),)
    if step in ("line", "pincode"):
        message = SessionMessage(Style.TEXT, words[step].format(number=order.number))
    elif step in ("landmark", "phone"):
        message = SessionMessage(Style.BUTTONS, words[step], skip)
    else:
        line, pincode, landmark, phone = answers
        shown = "\n".join(
            [f"{line}, {pincode}"]
            + ([f"{words['landmark_label']}: {landmark}"] if landmark else [])
            + ([f"{words['phone_label']}: {phone}"] if phone else [])
        )
        buttons = (
            Choice(f"ndr:address_ok:{awb}", words["ok"]),
            Choice(f"ndr:change_address:{awb}", words["again"]),
        )
        message = SessionMessage(
            Style.BUTTONS, words["confirm"].format(number=order.number, address=shown), buttons
        )
    turn = Turn(updated, Outcome.APPLIED, f"NDR {awb}: new address, step {step}")
    return say(turn, _step(shipment, reply), step, message, window_open)


def _retry(order: Order, shipment: Shipment, key: str, reply: CustomerReplied, window_open: bool) -> Turn:
    words = _WORDS[language_for(order.customer.language)]
    awb = shipment.awb
    if shipment.ndr_step == "phone":
        message = SessionMessage(Style.BUTTONS, words[key], (Choice(f"ndr:skip:{awb}", words["skip"]),))
    else:
        message = SessionMessage(Style.TEXT, words[key])
    turn = Turn(order, Outcome.IGNORED, f"NDR {awb}: {shipment.ndr_step} not valid, asked again")
    return say(turn, _step(shipment, reply), key, message, window_open)


def _confirmed(order: Order, shipment: Shipment, reply: CustomerReplied, window_open: bool) -> Turn:
    line, pincode, landmark, phone = shipment.ndr_address
    awb = shipment.awb
    updated = dataclasses.replace(
        shipment,
        ndr_step="",
        ndr_choice="change_address",
        ndr_date=None,
        ndr_chosen_at=reply.occurred_at,
        ndr_attempt=shipment.attempt,
    )
    request = CourierRequest(
        awb,
        shipment.attempt,
        "re-attempt",
        "Customer gave a new address on WhatsApp",
        phone=phone,
        address1=line,
        address2=", ".join(p for p in (landmark, f"PIN {pincode}") if p),
    )
    cases: tuple[Escalation, ...] = ()
    if pincode != order.address.pincode:
        detail = {"pincode": pincode, "was": order.address.pincode, "address": line}
        cases = (Escalation("pincode_changed", awb, f"{awb}:ndr{shipment.attempt}:pincode_changed", detail),)
    turn = Turn(
        order.with_shipment(updated),
        Outcome.APPLIED,
        f"NDR {awb}: re-attempt at a new address requested",
        courier=request,
        escalations=cases,
    )
    done = _WORDS[language_for(order.customer.language)]["done"].format(number=order.number)
    return say(turn, f"{awb}:ndr{shipment.attempt}", "confirm", SessionMessage(Style.TEXT, done), window_open)


def _step(shipment: Shipment, reply: CustomerReplied) -> str:
    """Questions can repeat (a wrong PIN code, Start over): each is keyed by the reply it answers."""
    return f"{shipment.awb}:ndr{shipment.attempt}:{reply.wamid}"
