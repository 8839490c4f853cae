"""The failed-delivery dialogue (bot.ndr) and WhatsApp's limits on session messages, without I/O."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from orderwire import bot
from orderwire.domain.events import CustomerReplied
from orderwire.domain.interactive import Choice, SessionError, SessionMessage, Style, check
from orderwire.domain.lifecycle import Outcome
from orderwire.domain.model import Order, Shipment, ShipmentStatus, Stage
from orderwire.domain.policy import EddRules, ShopPolicy
from orderwire.integrations.whatsapp.client import session_payload
from tests.unit.factories import T0, order

POLICY = ShopPolicy()
AWB = "SR300"


def failed(language: str = "en", status: ShipmentStatus = ShipmentStatus.DELIVERY_FAILED) -> Order:
    shipment = Shipment(
        AWB, "Delhivery", status=status, status_at=T0, failed_attempts=(T0,), failure_reason="Customer away"
    )
    return dataclasses.replace(
        order(paid=True, language=language), stage=Stage.DELIVERY_FAILED
    ).with_shipment(shipment)


def tap(reply_id: str) -> CustomerReplied:
    return CustomerReplied(T0, "wamid.x", "button", "", reply_id)


def test_reschedule_offers_the_next_three_delivery_days_skipping_sunday() -> None:
    turn = bot.respond(failed(), tap(f"ndr:reschedule:{AWB}"), T0, POLICY, window_open=True)
    (out,) = turn.sends
    assert out.key == f"{AWB}:ndr1:days" and out.message.style is Style.LIST
    # T0 is Friday 27 November in Kolkata: Sunday the 29th is skipped.
    assert [(c.id, c.title) for c in out.message.choices] == [
        (f"ndr:day:{AWB}:2026-11-28", "Sat, 28 Nov"),
        (f"ndr:day:{AWB}:2026-11-30", "Mon, 30 Nov"),
        (f"ndr:day:{AWB}:2026-12-01", "Tue, 1 Dec"),
    ]
    assert turn.courier is None and turn.order == failed()
    check(out.message)


def test_holidays_are_not_offered() -> None:
    policy = ShopPolicy(edd=EddRules(holidays=frozenset({date(2026, 11, 30)})))
    turn = bot.respond(failed(), tap(f"ndr:reschedule:{AWB}"), T0, policy, window_open=True)
    assert [c.id[-10:] for c in turn.sends[0].message.choices] == ["2026-11-28", "2026-12-01", "2026-12-02"]


def test_a_day_is_recorded_and_sent_to_the_courier() -> None:
    turn = bot.respond(failed(), tap(f"ndr:day:{AWB}:2026-11-30"), T0, POLICY, window_open=True)
    shipment = turn.order.shipment(AWB)
    assert shipment is not None
    assert (shipment.ndr_choice, shipment.ndr_date, shipment.ndr_chosen_at, shipment.ndr_attempt) == (
        "reattempt",
        date(2026, 11, 30),
        T0,
        1,
    )
    assert turn.courier is not None
    assert (turn.courier.action, turn.courier.deferred_date, turn.courier.attempt) == (
        "re-attempt",
        date(2026, 11, 30),
        1,
    )
    (confirm,) = turn.sends
    assert confirm.key == f"{AWB}:ndr1:confirm"
    assert confirm.message.body.startswith(
        "Done: the courier will try again to deliver order #1001 on Mon, 30 Nov"
    )


def test_return() -> None:
    returned = bot.respond(failed(), tap(f"ndr:return:{AWB}"), T0, POLICY, window_open=True)
    assert returned.courier is not None and returned.courier.action == "return"
    assert returned.courier.deferred_date is None
    assert returned.order.shipment(AWB).ndr_choice == "return"  # type: ignore[union-attr]


def typed(text: str, n: int) -> CustomerReplied:
    return CustomerReplied(T0, f"wamid.t{n}", "text", text, "")


def converse(current: Order, replies: list[CustomerReplied]) -> tuple[Order, list[bot.Turn]]:
    turns = []
    for reply in replies:
        turn = bot.respond(current, reply, T0, POLICY, window_open=True)
        turns.append(turn)
        current = turn.order
    return current, turns


def test_change_address_step_by_step_with_pin_code_check() -> None:
    final, turns = converse(
        failed(),
        [
            tap(f"ndr:change_address:{AWB}"),
            typed("12", 1),  # too short
            typed("Flat 4B, Lake View Apartments, 3rd Cross, Indiranagar", 2),
            typed("56001", 3),  # five digits
            typed("560 038", 4),
            typed("Opposite the metro station", 5),
            typed("98123", 6),  # not a mobile number
            CustomerReplied(T0, "wamid.s", "interactive", "Skip", f"ndr:skip:{AWB}"),
            CustomerReplied(T0, "wamid.ok", "interactive", "Confirm", f"ndr:address_ok:{AWB}"),
        ],
    )
    bodies = [t.sends[0].message.body for t in turns]
    assert bodies[0].startswith("Please type the new address for order #1001")
    assert bodies[1].startswith("That looks too short")
    assert bodies[2] == "Thanks. Now the 6-digit PIN code of this address."
    assert bodies[3].startswith("That is not a PIN code")
    assert bodies[4] == "Is there a landmark near it? Type it, or tap Skip."
    assert turns[4].sends[0].message.choices == (Choice(f"ndr:skip:{AWB}", "Skip"),)
    assert bodies[5].startswith("Another phone number")
    assert bodies[6].startswith("That is not a 10-digit mobile number")
    assert bodies[7] == (
        "New address for order #1001:\nFlat 4B, Lake View Apartments, 3rd Cross, Indiranagar, 560038\n"
        "Landmark: Opposite the metro station\nShall we send it to the courier?"
    )
    assert [c.title for c in turns[7].sends[0].message.choices] == ["Confirm", "Start over"]
    for turn in turns:
        check(turn.sends[0].message)
    assert len({t.sends[0].key for t in turns}) == len(turns), "every question is its own message"
    done = turns[-1]
    assert done.courier is not None
    assert (done.courier.action, done.courier.address1, done.courier.address2, done.courier.phone) == (
        "re-attempt",
        "Flat 4B, Lake View Apartments, 3rd Cross, Indiranagar",
        "Opposite the metro station, PIN 560038",
        "",
    )
    (case,) = done.escalations  # another PIN code than the order's 560001: staff check the courier serves it
    assert (case.reason, case.detail["pincode"], case.detail["was"]) == (
        "pincode_changed",
        "560038",
        "560001",
    )
    shipment = final.shipment(AWB)
    assert shipment is not None and (shipment.ndr_choice, shipment.ndr_step) == ("change_address", "")
    # Typed text after the dialogue is only recorded.
    after = bot.respond(final, typed("thanks!", 9), T0, POLICY, window_open=True)
    assert after.outcome is Outcome.IGNORED and after.sends == ()


def test_address_with_phone_and_same_pin_needs_no_staff_and_start_over_works() -> None:
    _, turns = converse(
        failed("hi"),
        [
            tap(f"ndr:change_address:{AWB}"),
            typed("House 7, MG Road, Shivajinagar", 1),
            typed("560001", 2),
            CustomerReplied(T0, "wamid.s", "interactive", "Skip", f"ndr:skip:{AWB}"),
            typed("+91 98123-45678", 3),
            CustomerReplied(T0, "wamid.again", "interactive", "फिर से शुरू करें", f"ndr:change_address:{AWB}"),
            typed("House 9, MG Road, Shivajinagar", 4),
            typed("560001", 5),
            typed("Near the church", 6),
            typed("09812345678", 7),
            CustomerReplied(T0, "wamid.ok", "interactive", "पुष्टि करें", f"ndr:address_ok:{AWB}"),
        ],
    )
    assert turns[0].sends[0].message.body.startswith("कृपया ऑर्डर #1001 का नया पता लिखें")
    done = turns[-1]
    assert done.courier is not None and done.escalations == ()
    assert (done.courier.address1, done.courier.address2, done.courier.phone) == (
        "House 9, MG Road, Shivajinagar",
        "Near the church, PIN 560001",
        "9812345678",
    )
    # A stale Confirm (the dialogue is over) does nothing.
    late = bot.respond(
        done.order, CustomerReplied(T0, "w", "interactive", "", f"ndr:address_ok:{AWB}"), T0, POLICY, True
    )
    assert late.courier is None and late.sends == ()


@pytest.mark.parametrize(
    ("current", "reply_id", "outcome", "explained"),
    [
        (
            failed(status=ShipmentStatus.DELIVERED),
            f"ndr:reschedule:{AWB}",
            Outcome.STALE,
            "Order #1001 has been delivered, so this choice is no longer open.",
        ),
        (failed(), "ndr:reschedule:OTHER", Outcome.STALE, "That choice is no longer open for order #1001."),
        (  # today is no longer on offer
            failed(),
            f"ndr:day:{AWB}:2026-11-27",
            Outcome.STALE,
            "That day has passed for order #1001. Tap Reschedule again to see the days on offer now.",
        ),
        (
            failed(),
            f"ndr:day:{AWB}:2026-12-25",
            Outcome.STALE,
            "That day has passed for order #1001. Tap Reschedule again to see the days on offer now.",
        ),
        (failed(), f"ndr:day:{AWB}:soon", Outcome.IGNORED, ""),
        (failed(), f"ndr:teleport:{AWB}", Outcome.IGNORED, ""),
    ],
)
def test_stale_and_unknown_taps_change_nothing(
    current: Order, reply_id: str, outcome: Outcome, explained: str
) -> None:
    """A stale tap changes nothing but gets a polite explanation (once: keyed by the tap's message id)."""
    turn = bot.respond(current, tap(reply_id), T0, POLICY, window_open=True)
    assert (turn.outcome, turn.order, turn.courier) == (outcome, current, None)
    assert [(s.key, s.message.body) for s in turn.sends] == (
        [("stale:wamid.x:explain", explained)] if explained else []
    )


def test_a_second_answer_to_the_same_attempt_is_a_duplicate_but_a_new_attempt_asks_again() -> None:
    first = bot.respond(failed(), tap(f"ndr:return:{AWB}"), T0, POLICY, window_open=True)
    again = bot.respond(first.order, tap(f"ndr:day:{AWB}:2026-11-30"), T0, POLICY, window_open=True)
    assert again.outcome is Outcome.DUPLICATE and again.courier is None and again.sends == ()
    shipment = first.order.shipment(AWB)
    assert shipment is not None
    later = T0 + timedelta(days=1)
    second = first.order.with_shipment(dataclasses.replace(shipment, failed_attempts=(T0, later)))
    turn = bot.respond(second, tap(f"ndr:return:{AWB}"), later, POLICY, window_open=True)
    assert turn.courier is not None and turn.courier.attempt == 2
    assert turn.sends[0].key == f"{AWB}:ndr2:confirm"


def test_outside_the_window_nothing_is_sent_and_staff_are_told() -> None:
    turn = bot.respond(failed(), tap(f"ndr:day:{AWB}:2026-11-30"), T0, POLICY, window_open=False)
    assert turn.sends == () and turn.courier is not None
    (case,) = turn.escalations
    assert (case.reason, case.awb, case.key) == ("window_closed", AWB, f"{AWB}:ndr1:window_closed")


def test_other_messages_have_no_dialogue() -> None:
    reply = CustomerReplied(T0, "wamid.y", "text", "hello", "")
    turn = bot.respond(failed(), reply, T0, POLICY, window_open=True)
    assert (turn.outcome, turn.sends) == (Outcome.IGNORED, ())


@pytest.mark.parametrize(
    "message",
    [
        SessionMessage(Style.TEXT, ""),
        SessionMessage(Style.TEXT, "x" * 4097),
        SessionMessage(Style.LIST, "b" * 1025, (Choice("a", "A"),), "Pick"),
        SessionMessage(Style.LIST, "body", (), "Pick"),
        SessionMessage(Style.LIST, "body", tuple(Choice(str(i), str(i)) for i in range(11)), "Pick"),
        SessionMessage(Style.LIST, "body", (Choice("a", "x" * 25),), "Pick"),
        SessionMessage(Style.LIST, "body", (Choice("a", "A", "d" * 73),), "Pick"),
        SessionMessage(Style.LIST, "body", (Choice("a", "A"),), "p" * 21),
        SessionMessage(Style.LIST, "body", (Choice("a", "A"), Choice("a", "B")), "Pick"),
        SessionMessage(Style.BUTTONS, "body", tuple(Choice(str(i), str(i)) for i in range(4))),
        SessionMessage(Style.BUTTONS, "body", (Choice("a", "t" * 21),)),
        SessionMessage(Style.BUTTONS, "body", (Choice("a", "Same"), Choice("b", "Same"))),
    ],
)
def test_limits(message: SessionMessage) -> None:
    with pytest.raises(SessionError):
        check(message)


def test_payload_shapes() -> None:
    buttons = SessionMessage(Style.BUTTONS, "Sure?", (Choice("y", "Yes"), Choice("n", "No")))
    check(buttons)
    assert session_payload("+919812345678", buttons)["interactive"] == {
        "type": "button",
        "body": {"text": "Sure?"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "y", "title": "Yes"}},
                {"type": "reply", "reply": {"id": "n", "title": "No"}},
            ]
        },
    }
    text = session_payload("+919812345678", SessionMessage(Style.TEXT, "Hi"))
    assert (text["to"], text["type"], text["text"]) == (
        "919812345678",
        "text",
        {"preview_url": False, "body": "Hi"},
    )
