"""What one step of a dialogue decides: the new order state, messages to send, a request for the courier."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

from orderwire.domain.interactive import SessionMessage
from orderwire.domain.lifecycle import Decision, Escalation, Outcome, TimerIntent, VendorCall
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
    # A lifecycle decision the dialogue made (e.g. the customer cancelled, or confirmed a COD order): its
    # messages, timers and staff cases are recorded like any other event's. `order` is already its new state.
    decision: Decision | None = None
    # The customer asked to stop (False) or start again (True) by other words than the bare keyword.
    consent: bool | None = None


def say(
    turn: Turn,
    step: str,
    name: str,
    message: SessionMessage,
    window_open: bool,
    dialogue: str = "ndr",
    awb: str | None = None,
) -> Turn:
    """Add a message keyed `<step>:<name>`, unless the service window has closed: then the reply becomes a
    staff case (`window_closed`, with the words that could not be sent), never a silent drop. The case
    names the parcel `awb` (by default the first part of `step`, as the NDR keys start with the AWB)."""
    if not window_open:
        parcel = step.split(":", 1)[0] if awb is None else awb
        detail = {"unsent": message.body[:500], "dialogue": dialogue}
        case = Escalation("window_closed", parcel, f"{step}:window_closed", detail)
        return dataclasses.replace(turn, escalations=(*turn.escalations, case))
    return dataclasses.replace(turn, sends=(*turn.sends, Outgoing(dialogue, f"{step}:{name}", message)))
