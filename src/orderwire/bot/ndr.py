"""The failed-delivery (NDR) dialogue: the customer's answer to a failed attempt, step by step.

The notice is the `order_delivery_failed` template, whose quick replies carry `ndr:<choice>:<AWB>`. Its
answers open the service window, so the rest is interactive: Reschedule shows the next three delivery days
(no Sundays or holidays) as a list whose rows carry `ndr:day:<AWB>:<YYYY-MM-DD>`; a day or Return goes to
the courier as an NDR action and the customer is told what happens next. Change address is taken step by
step (bot/address.py).
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from orderwire.bot import address
from orderwire.bot.turn import CourierRequest, Turn, say
from orderwire.domain.events import CustomerReplied
from orderwire.domain.interactive import Choice, SessionMessage, Style
from orderwire.domain.lifecycle import NDR_CHECK, Outcome, TimerIntent
from orderwire.domain.messages import format_day, language_for
from orderwire.domain.model import Order, Shipment, ShipmentStatus
from orderwire.domain.policy import ShopPolicy, add_delivery_days

PREFIX = "ndr:"
DAYS_OFFERED = 3

_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "days": "Order {number}: on which day should the courier try again? Pick a day below.",
        "button": "Choose a day",
        "row": "Delivery attempt on this day",
        "reattempt": "Done: the courier will try again to deliver order {number} on {day}. "
        "Please keep your phone reachable that day.",
        "return": "Understood: order {number} goes back to us. We will message you once it arrives "
        "to sort out your refund or a new delivery.",
        "gone": "That day has passed for order {number}. Tap Reschedule again to see the days on offer now.",
        "stale": "That choice is no longer open for order {number}.",
        "delivered": "Order {number} has been delivered, so this choice is no longer open.",
    },
    "hi": {
        "days": "ऑर्डर {number}: कूरियर किस दिन फिर से डिलीवरी करे? नीचे से दिन चुनें।",
        "button": "दिन चुनें",
        "row": "इस दिन डिलीवरी",
        "reattempt": "हो गया: कूरियर {day} को ऑर्डर {number} फिर से डिलीवर करेगा। कृपया उस दिन अपना फ़ोन चालू रखें।",
        "return": "ठीक है: ऑर्डर {number} हमारे पास वापस आएगा। उसके पहुँचते ही हम रिफ़ंड या नई डिलीवरी "
        "के लिए आपको संदेश भेजेंगे।",
        "gone": "ऑर्डर {number} के लिए वह दिन निकल चुका है। अभी के दिन देखने के लिए फिर से Reschedule दबाएँ।",
        "stale": "ऑर्डर {number} के लिए यह विकल्प अब खुला नहीं है।",
        "delivered": "ऑर्डर {number} डिलीवर हो चुका है, इसलिए यह विकल्प अब खुला नहीं है।",
    },
}


def offered_days(now: datetime, policy: ShopPolicy) -> tuple[date, ...]:
    """The next delivery days after today in the shop's time zone (couriers rest on Sundays, holidays)."""
    today = now.astimezone(ZoneInfo(policy.timezone)).date()
    return tuple(add_delivery_days(today, k, policy.edd.holidays) for k in range(1, DAYS_OFFERED + 1))


def respond(
    order: Order, reply: CustomerReplied, now: datetime, policy: ShopPolicy, window_open: bool
) -> Turn:
    """Answer one `ndr:` reply: show the days, or record the choice and ask the courier to act on it."""
    choice, _, rest = reply.reply_id.removeprefix(PREFIX).partition(":")
    awb, picked = rest.rsplit(":", 1) if choice == "day" and ":" in rest else (rest, "")
    shipment = order.shipment(awb)
    if shipment is None or shipment.status is not ShipmentStatus.DELIVERY_FAILED or shipment.attempt == 0:
        stale = Turn(
            order, Outcome.STALE, f"NDR reply {choice!r} for {awb}: no failed delivery awaits a choice"
        )
        gone = shipment is not None and shipment.status is ShipmentStatus.DELIVERED
        said = _WORDS[language_for(order.customer.language)]["delivered" if gone else "stale"]
        return _explain(stale, reply, window_open, said.format(number=order.number))
    if shipment.ndr_attempt == shipment.attempt and shipment.ndr_choice:
        return Turn(order, Outcome.DUPLICATE, f"NDR for {awb}: already answered ({shipment.ndr_choice})")
    lang = language_for(order.customer.language)
    words = _WORDS[lang]
    step = f"{awb}:ndr{shipment.attempt}"
    if choice == "reschedule":
        rows = tuple(
            Choice(f"{PREFIX}day:{awb}:{d.isoformat()}", format_day(d, lang), words["row"])
            for d in offered_days(now, policy)
        )
        days = SessionMessage(Style.LIST, words["days"].format(number=order.number), rows, words["button"])
        return say(
            Turn(order, Outcome.APPLIED, f"NDR {awb}: delivery days offered"), step, "days", days, window_open
        )
    if choice == "day":
        try:
            day = date.fromisoformat(picked)
        except ValueError:
            return Turn(order, Outcome.IGNORED, f"NDR {awb}: unreadable day {picked!r}")
        if day not in offered_days(now, policy):
            stale = Turn(order, Outcome.STALE, f"NDR {awb}: {day} is no longer on offer")
            return _explain(stale, reply, window_open, words["gone"].format(number=order.number))
        chosen = _chosen(order, shipment, "reattempt", reply.occurred_at, day)
        request = CourierRequest(
            awb, shipment.attempt, "re-attempt", f"Customer asked on WhatsApp for a re-attempt on {day}", day
        )
        text = words["reattempt"].format(number=order.number, day=format_day(day, lang))
        # Checked after the chosen day ends, with two hours' grace for the courier's late scans.
        check_at = datetime.combine(day + timedelta(days=1), time(2), ZoneInfo(policy.timezone))
        check = TimerIntent(f"{NDR_CHECK}:{awb}:{shipment.attempt}", check_at)
        note = f"NDR {awb}: re-attempt on {day} requested"
        turn = Turn(chosen, Outcome.APPLIED, note, courier=request, timers=(check,))
        return say(turn, step, "confirm", SessionMessage(Style.TEXT, text), window_open)
    if choice == "return":
        chosen = _chosen(order, shipment, "return", reply.occurred_at, None)
        request = CourierRequest(
            awb, shipment.attempt, "return", "Customer asked on WhatsApp to return the parcel"
        )
        turn = Turn(chosen, Outcome.APPLIED, f"NDR {awb}: return requested", courier=request)
        text = words["return"].format(number=order.number)
        return say(turn, step, "confirm", SessionMessage(Style.TEXT, text), window_open)
    if choice in address.CHOICES:
        return address.respond(order, shipment, choice, reply, window_open)
    return Turn(order, Outcome.IGNORED, f"NDR {awb}: unknown choice {choice!r}")


def _explain(turn: Turn, reply: CustomerReplied, window_open: bool, text: str) -> Turn:
    """A tap that no longer fits (the parcel was delivered, the day passed) gets a polite explanation."""
    message = SessionMessage(Style.TEXT, text)
    return say(turn, f"stale:{reply.wamid}", "explain", message, window_open, "ndr", "")


def _chosen(order: Order, shipment: Shipment, choice: str, at: datetime, day: date | None) -> Order:
    """The order with the customer's choice for this attempt, and when they made it, on the parcel."""
    updated = dataclasses.replace(
        shipment, ndr_choice=choice, ndr_date=day, ndr_chosen_at=at, ndr_attempt=shipment.attempt, ndr_step=""
    )
    return order.with_shipment(updated)
