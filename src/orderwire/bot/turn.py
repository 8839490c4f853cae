"""What one step of a dialogue decides: the new order state, messages to send, a request for the courier."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

from orderwire.domain.interactive import SessionMessage
from orderwire.domain.lifecycle import Escalation, MessageIntent, Outcome, TimerIntent, VendorCall
from orderwire.domain.model import Order


@dataclass(frozen=True)
class Outgoing:
    """A session message to send once: `key` is unique within the order (parcel, attempt, step)."""

    dialogue: str
    key: str
    message: SessionMessage


@dataclass(frozen=True)
class CourierRequest:
    """An NDR action for the courier, once per parcel and failed attempt (`re-attempt` or `return`)."""

    awb: str
    attempt: int
    action: str
    comments: str
    deferred_date: date | None = None
    phone: str = ""
    address1: str = ""
    address2: str = ""


@dataclass(frozen=True)
class Turn:
    """The outcome of one customer reply."""

    order: Order
    outcome: Outcome
    note: str
    sends: tuple[Outgoing, ...] = ()
    courier: CourierRequest | None = None
    escalations: tuple[Escalation, ...] = ()
    timers: tuple[TimerIntent, ...] = ()
    calls: tuple[VendorCall, ...] = ()
    # Template messages (e.g. the confirmation after a COD tap) and scheduled ones to cancel, by key.
    messages: tuple[MessageIntent, ...] = ()
    cancel_messages: tuple[str, ...] = ()


def say(
    turn: Turn, step: str, name: str, message: SessionMessage, window_open: bool, dialogue: str = "ndr"
) -> Turn:
    """Add a message keyed `<step>:<name>`, unless the service window has closed: then staff must reach
    the customer (`step` starts with the AWB)."""
    if not window_open:
        awb = step.split(":", 1)[0]
        case = Escalation("window_closed", awb, f"{step}:window_closed", {"unsent": message.body[:500]})
        return dataclasses.replace(turn, escalations=(*turn.escalations, case))
    return dataclasses.replace(turn, sends=(*turn.sends, Outgoing(dialogue, f"{step}:{name}", message)))
