"""The customer writes back: the intent dialogues (pure), from typed text and taps to what the bot does."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from orderwire import bot
from orderwire.bot.chat import Chat, OrderBrief, order_named
from orderwire.bot.turn import Turn
from orderwire.domain.consent import confirmation, consent_change
from orderwire.domain.events import CustomerReplied
from orderwire.domain.interactive import Style, check
from orderwire.domain.lifecycle import SHOP_CANCEL, MessageKind, Outcome
from orderwire.domain.model import Order, Scan, Shipment, ShipmentStatus, Stage
from orderwire.domain.policy import ShopPolicy
from tests.unit.factories import T0, order

POLICY = ShopPolicy()
URL = "https://shop.example/t/tok123"


def chat(*briefs: OrderBrief, review: str = "") -> Chat:
    return Chat(tracking_url=URL, open_orders=briefs, review_url=review, human_reply_hours=4)


def brief(o: Order) -> OrderBrief:
    return OrderBrief(o.order_id, o.number, o.stage)


def typed(text: str, wamid: str = "wamid.t") -> CustomerReplied:
    return CustomerReplied(T0, wamid, "text", text)


def tapped(reply_id: str, wamid: str = "wamid.tap") -> CustomerReplied:
    return CustomerReplied(T0, wamid, "interactive", "", reply_id)


def confirmed(language: str = "en") -> Order:
    return dataclasses.replace(
        order(paid=True, language=language), stage=Stage.CONFIRMED, edd=date(2026, 12, 2)
    )


def in_transit() -> Order:
    scan = Scan(T0, ShipmentStatus.IN_TRANSIT, "Hosur Hub")
    parcel = Shipment("SR1", "Delhivery", status=ShipmentStatus.IN_TRANSIT, status_at=T0, scans=(scan,))
    return dataclasses.replace(confirmed(), stage=Stage.DISPATCHED).with_shipment(parcel)


def delivered() -> Order:
    return dataclasses.replace(confirmed(), stage=Stage.FOLLOWED_UP, delivered_at=T0 - timedelta(days=4))


def say(current: Order, reply: CustomerReplied, c: Chat | None = None, window_open: bool = True) -> Turn:
    turn = bot.respond(current, reply, T0, POLICY, window_open, c if c is not None else chat(brief(current)))
    for out in turn.sends:
        check(out.message)  # everything the bot says fits WhatsApp's limits
    return turn


def body(turn: Turn) -> str:
    (out,) = turn.sends
    return out.message.body


def test_where_is_my_order_with_one_order_gives_the_live_status() -> None:
    current = in_transit()
    turn = say(current, typed("where is my order??"))
    assert turn.outcome is Outcome.APPLIED and turn.order == current
    (out,) = turn.sends
    assert (out.key, out.dialogue, out.message.style) == ("bot:wamid.t:wismo", "wismo", Style.TEXT)
    assert out.message.body == (
        "Order #1001 is on its way.\nLast scanned at Hosur Hub.\nExpected delivery: Wed, 2 Dec.\n"
        f"Track it here: {URL}"
    )


def test_where_is_my_order_in_hindi() -> None:
    current = dataclasses.replace(confirmed("hi"), stage=Stage.PROCESSING)
    assert body(say(current, typed("mera order kahan hai"))).startswith("ऑर्डर #1001 पैक हो रहा है।")


def test_several_open_orders_ask_which_then_answer_the_pick() -> None:
    first, second = in_transit(), dataclasses.replace(confirmed(), order_id="o-2", number="#1002")
    turn = say(second, typed("where is my order"), chat(brief(second), brief(first)))
    (out,) = turn.sends
    assert out.message.style is Style.LIST and out.key == "bot:wamid.t:which"
    assert [(c.id, c.title, c.description) for c in out.message.choices] == [
        ("wismo:o-2", "#1002", "confirmed and being prepared"),
        ("wismo:o-1", "#1001", "on its way"),
    ]
    # The pick is routed to its order (the app layer reads the order id from the reply id).
    assert order_named("wismo:o-1") == "o-1"
    picked = say(first, tapped("wismo:o-1"), chat(brief(second), brief(first)))
    assert body(picked).startswith("Order #1001 is on its way.")


def test_delivered_order_says_when() -> None:
    assert body(say(delivered(), typed("where is my order"), chat())).startswith(
        "Order #1001 is delivered.\nDelivered on Mon, 23 Nov."
    )


def test_cancel_before_dispatch_confirms_then_cancels_in_the_shop_and_the_lifecycle() -> None:
    current = confirmed()
    ask = say(current, typed("please cancel my order"))
    (out,) = ask.sends
    assert out.message.body == "Cancel order #1001 (2 × Cotton Kurta)?"
    assert [c.id for c in out.message.choices] == ["cancel:yes:o-1", "cancel:no:o-1"]
    assert ask.order == current and ask.calls == ()
    done = say(current, tapped("cancel:yes:o-1"))
    assert done.order.stage is Stage.CANCELLED and done.outcome is Outcome.APPLIED
    (call,) = done.calls
    assert (call.kind, call.key, call.payload) == (
        SHOP_CANCEL,
        "shop_cancel",
        {"order_id": "o-1", "reason": "customer asked on WhatsApp"},
    )
    assert done.decision is not None
    assert [m.kind for m in done.decision.messages] == [MessageKind.CANCELLED]  # the confirmation template
    assert done.sends == ()
    again = say(done.order, tapped("cancel:yes:o-1", "wamid.again"))
    assert (again.outcome, again.calls, again.sends) == (Outcome.DUPLICATE, (), ())


def test_keeping_the_order() -> None:
    turn = say(confirmed(), tapped("cancel:no:o-1"))
    assert body(turn) == "Okay, order #1001 stays as it is." and turn.calls == ()


def test_cancel_after_dispatch_explains_and_offers_a_return() -> None:
    current = in_transit()
    for reply in (typed("cancel it"), tapped("cancel:yes:o-1")):
        turn = say(current, reply)
        assert turn.outcome is Outcome.STALE and turn.calls == () and turn.decision is None
        (out,) = turn.sends
        assert out.message.body.startswith("Order #1001 has already left our warehouse")
        assert [c.id for c in out.message.choices] == ["return:o-1", "menu:human"]


def test_return_offer_starts_the_returns_dialogue() -> None:
    turn = say(delivered(), tapped("return:o-1"), chat())
    (case,) = turn.order.returns
    assert turn.escalations == () and case.rma
    assert body(turn).startswith("Sorry to hear that. Why would you like to return order #1001?")


def test_cancel_with_several_open_orders_asks_which() -> None:
    other = dataclasses.replace(confirmed(), order_id="o-2", number="#1002")
    turn = say(confirmed(), typed("cancel my order"), chat(brief(other), brief(confirmed())))
    (out,) = turn.sends
    assert [c.id for c in out.message.choices] == ["cancel:pick:o-2", "cancel:pick:o-1"]
    picked = say(other, tapped("cancel:pick:o-2"))
    assert [c.id for c in picked.sends[0].message.choices] == ["cancel:yes:o-2", "cancel:no:o-2"]


def test_change_address_before_dispatch_step_by_step() -> None:
    current = confirmed()
    steps = [
        typed("I need to change my delivery address", "w0"),
        typed("Flat 4B, Lake View, Indiranagar", "w1"),
        typed("5600", "w2"),
        typed("560038", "w3"),
        tapped("addr:skip:o-1", "w4"),
        typed("98123 45679", "w5"),
        tapped("addr:ok:o-1", "w6"),
    ]
    said = []
    for reply in steps:
        turn = say(current, reply)
        current = turn.order
        said.append(body(turn))
    assert said[0].startswith("Please type the new address for order #1001")
    assert said[2].startswith("That is not a PIN code")
    assert said[5] == (
        "New address for order #1001:\nFlat 4B, Lake View, Indiranagar, 560038\nPhone: 9812345679\n"
        "Is this right?"
    )
    assert said[6] == "Thanks: order #1001 will go to the new address. Our team is updating it now."
    assert (current.address.line1, current.address.pincode, current.bot_step) == (
        "Flat 4B, Lake View, Indiranagar",
        "560038",
        "",
    )
    (case,) = turn.escalations
    assert case.reason == "update_shop_address"
    assert case.detail["phone"] == "9812345679" and case.detail["was"] == "12 MG Road, Bengaluru, 560001"


def test_change_address_during_a_failed_delivery_is_the_ndr_path() -> None:
    parcel = Shipment(
        "SR1",
        status=ShipmentStatus.DELIVERY_FAILED,
        status_at=T0,
        failed_attempts=(T0,),
        failure_reason="away",
    )
    current = dataclasses.replace(confirmed(), stage=Stage.DELIVERY_FAILED).with_shipment(parcel)
    turn = say(current, typed("change address please"))
    shipment = turn.order.shipment("SR1")
    assert shipment is not None and shipment.ndr_step == "line"
    assert turn.order.bot_step == ""


def test_change_address_after_dispatch_goes_to_staff() -> None:
    turn = say(in_transit(), typed("wrong address, change it"))
    (case,) = turn.escalations
    assert case.reason == "address_change_after_dispatch"
    assert body(turn).startswith("Order #1001 is already with the courier.")


def test_talk_to_a_person() -> None:
    turn = say(confirmed(), typed("I want to talk to a human"))
    (case,) = turn.escalations
    assert (case.reason, case.key) == ("customer_asked_for_human", "human:2026-11-27")
    assert body(turn) == "Sure, someone from our team will reply here within 4 hours."


def test_stop_in_other_words_asks_the_app_to_record_it() -> None:
    turn = say(confirmed(), typed("please stop sending me messages"))
    assert (turn.consent, turn.sends) == (False, ())


@pytest.mark.parametrize(
    ("reply", "score"),
    [
        (tapped("rating:5:o-1"), 5),
        (tapped("rating:1:o-1"), 1),
        (typed("5 stars"), 5),
        (typed("⭐⭐⭐⭐"), 4),
        (typed("3/5"), 3),
        (typed("2"), 2),
    ],
)
def test_ratings_are_kept(reply: CustomerReplied, score: int) -> None:
    turn = say(delivered(), reply, chat(review="https://g.page/r/demo/review"))
    assert (turn.order.rating, turn.order.rated_at) == (score, T0)
    reasons = [c.reason for c in turn.escalations]
    text = body(turn)
    if score <= 2:
        assert reasons == ["low_rating"] and "within 4 hours" in text
    elif score >= 4:
        assert (
            reasons == []
            and text
            == "Thank you, that made our day! Would you share it in a review? https://g.page/r/demo/review"
        )
    else:
        assert reasons == [] and text.startswith("Thank you for rating order #1001.")


def test_high_rating_without_a_review_link_is_just_thanked() -> None:
    assert body(say(delivered(), tapped("rating:5:o-1"), chat())) == "Thank you, that made our day!"


def test_free_text_feedback_after_delivery_is_kept() -> None:
    turn = say(delivered(), typed("Loved the fabric, great quality"), chat())
    assert turn.order.feedback == "Loved the fabric, great quality"
    assert body(turn) == "Thank you for telling us. We have passed it on to the team."


def test_greeting_offers_quick_options() -> None:
    turn = say(confirmed(), typed("Hi"))
    (out,) = turn.sends
    assert out.message.body == "Hello Asha! How can we help you today?"
    assert [c.id for c in out.message.choices] == ["menu:wismo", "menu:human", "menu:return"]
    hindi = say(confirmed("hi"), typed("namaste"))
    assert [c.title for c in hindi.sends[0].message.choices] == [
        "मेरा ऑर्डर कहाँ है",
        "किसी से बात करें",
        "रिटर्न / बदलाव",
    ]


def test_unclear_once_asks_again_twice_goes_to_staff_and_understanding_resets() -> None:
    first = say(confirmed(), typed("asdf qwerty", "u1"))
    assert first.order.unclear == 1 and first.escalations == ()
    assert body(first).startswith("Sorry, I did not quite get that.")
    second = say(first.order, typed("blorp", "u2"))
    (case,) = second.escalations
    assert (case.reason, case.detail["message"]) == ("bot_could_not_answer", "blorp")
    assert second.order.unclear == 0
    assert body(second) == "Let me pass this to our team: someone will reply here within 4 hours."
    understood = say(first.order, typed("where is my order", "u3"))
    assert understood.order.unclear == 0 and understood.escalations == ()


def test_quick_option_taps() -> None:
    assert body(say(in_transit(), tapped("menu:wismo"))).startswith("Order #1001 is on its way.")
    assert say(in_transit(), tapped("menu:human")).escalations[0].reason == "customer_asked_for_human"
    assert body(say(in_transit(), tapped("menu:return"))).startswith("Order #1001 has not been delivered yet")


def test_outside_the_window_a_reply_becomes_a_staff_case() -> None:
    turn = say(in_transit(), typed("where is my order"), window_open=False)
    assert turn.sends == ()
    (case,) = turn.escalations
    assert (case.reason, case.awb, case.key) == ("window_closed", "", "bot:wamid.t:window_closed")
    assert (
        case.detail["unsent"].startswith("Order #1001 is on its way.") and case.detail["dialogue"] == "wismo"
    )


def test_media_and_other_types_are_recorded_only() -> None:
    for kind in ("image", "location", "reaction", "system", "unsupported"):
        turn = say(confirmed(), CustomerReplied(T0, "w", kind, "caption"))
        assert (turn.outcome, turn.sends, turn.escalations) == (Outcome.IGNORED, (), ())


def test_without_a_chat_typed_text_is_only_recorded() -> None:
    turn = bot.respond(confirmed(), typed("where is my order"), T0, POLICY, True)
    assert (turn.outcome, turn.sends) == (Outcome.IGNORED, ())


@pytest.mark.parametrize(
    ("reply_id", "named"),
    [
        ("wismo:1001", "1001"),
        ("cancel:yes:shop:1", "shop:1"),
        ("rating:5:1001", "1001"),
        ("addr:ok:1001", "1001"),
        ("rto:refund:1001", "1001"),
        ("ndr:reschedule:AWB", ""),
        ("menu:wismo", ""),
        ("", ""),
        ("cancel:yes", ""),
    ],
)
def test_order_named_by_reply_id(reply_id: str, named: str) -> None:
    assert order_named(reply_id) == named


@pytest.mark.parametrize(
    "text",
    ["band kar do", "message mat bhejo", "मैसेज मत भेजो", "रोको"],
)
def test_more_hindi_and_hinglish_opt_outs(text: str) -> None:
    assert consent_change(text) is False


@pytest.mark.parametrize("text", ["chalu karo", "चालू करो", "shuru"])
def test_more_opt_ins(text: str) -> None:
    assert consent_change(text) is True


def test_consent_confirmations() -> None:
    assert confirmation(False, "en").startswith("You will no longer get updates from us on WhatsApp.")
    assert confirmation(True, "hi-IN").startswith("स्वागत है")


@pytest.mark.parametrize(
    "reply",
    [
        typed("mera order kahan hai"),
        typed("order cancel karo"),
        typed("address change karna hai"),
        typed("kisi se baat karni hai"),
        typed("namaste"),
        typed("asdf"),
        tapped("cancel:yes:o-1"),
    ],
)
def test_hindi_answers_fit_whatsapps_limits(reply: CustomerReplied) -> None:
    """Every answer in Hindi is checked against the limits (button titles ≤ 20, bodies, list rows)."""
    for current in (confirmed("hi"), dataclasses.replace(in_transit(), customer=confirmed("hi").customer)):
        turn = say(current, reply)
        assert turn.sends or turn.decision is not None or turn.escalations
        for out in turn.sends:
            assert any("\u0900" <= ch <= "\u097f" for ch in out.message.body)  # said in Hindi


def test_an_address_question_left_unanswered_expires() -> None:
    asked = say(confirmed(), typed("change my address")).order
    assert asked.bot_step == "addr:line" and asked.bot_asked_at == T0
    later = CustomerReplied(T0 + timedelta(hours=3), "wamid.later", "text", "where is my order")
    turn = bot.respond(asked, later, T0 + timedelta(hours=3), POLICY, True, chat(brief(asked)))
    assert body(turn).startswith("Order #1001 is confirmed and being prepared.")
    assert not bot.awaits_text(asked, T0 + timedelta(hours=3)) and bot.awaits_text(
        asked, T0 + timedelta(hours=1)
    )


def test_unclear_messages_days_apart_are_not_a_run() -> None:
    first = say(confirmed(), typed("asdf", "u1")).order
    days_later = T0 + timedelta(days=2)
    turn = bot.respond(
        first,
        CustomerReplied(days_later, "u2", "text", "qwerty"),
        days_later,
        POLICY,
        True,
        chat(brief(first)),
    )
    assert turn.escalations == () and body(turn).startswith("Sorry, I did not quite get that.")
    assert turn.order.bot_asked_at == days_later
