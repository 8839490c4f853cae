"""Returns without I/O: the dialogue (bot.returns), the parcel and refund rules, the label."""

from __future__ import annotations

import dataclasses
import io
from datetime import datetime, timedelta

import pytest
from pypdf import PdfReader
from reportlab.graphics.barcode.code128 import Code128

from orderwire import bot
from orderwire.app.catalogue import load_catalogue
from orderwire.app.return_label import LabelData, barcode, render
from orderwire.bot import returns as dialogue
from orderwire.bot.turn import Turn
from orderwire.domain import returns as rules
from orderwire.domain.events import CustomerReplied, RefundUpdated, ShipmentUpdated, TimerFired
from orderwire.domain.interactive import Style, check
from orderwire.domain.lifecycle import (
    MEDIA_DOWNLOAD,
    PAYMENT_REFUND,
    RETURN_PICKUP,
    MessageKind,
    Outcome,
    decide,
)
from orderwire.domain.messages import compose
from orderwire.domain.model import (
    Order,
    PaymentMethod,
    ReturnStatus,
    ShipmentStatus,
    Stage,
    order_from_json,
    to_json,
)
from orderwire.domain.policy import ShopPolicy
from orderwire.domain.templates import validate
from orderwire.integrations.whatsapp.client import session_payload
from orderwire.integrations.whatsapp.fake import customer_message_webhook
from orderwire.integrations.whatsapp.webhook import parse
from tests.unit.factories import T0, order

POLICY = ShopPolicy()
DELIVERED_AT = T0 - timedelta(days=2)


def delivered(language: str = "en", **kw: object) -> Order:
    base = order(paid=True, language=language, **kw)  # type: ignore[arg-type]
    refs = {"payment": "pay_1"} if base.payment is PaymentMethod.PREPAID else {}
    return dataclasses.replace(base, stage=Stage.DELIVERED, delivered_at=DELIVERED_AT, references=refs)


def tap(reply_id: str, wamid: str = "wamid.tap") -> CustomerReplied:
    return CustomerReplied(T0, wamid, "interactive", "", reply_id)


def image(wamid: str, media_id: str, mime: str = "image/jpeg") -> CustomerReplied:
    return CustomerReplied(T0, wamid, "image", "", "", media_id=media_id, media_mime=mime)


def step(o: Order, reply: CustomerReplied, window_open: bool = True) -> Turn:
    turn = bot.respond(o, reply, T0, POLICY, window_open)
    for out in turn.sends:
        check(out.message)  # every message the dialogue says is one WhatsApp accepts
    return turn


def opened(language: str = "en") -> tuple[Order, str]:
    turn = dialogue.start(delivered(language), T0, POLICY, window_open=True)
    (case,) = turn.order.returns
    return turn.order, case.rma


def with_photos(n: int = 2) -> tuple[Order, str]:
    o, rma = opened()
    o = step(o, tap(f"ret:reason:{rma}:damaged")).order
    for k in range(n):
        o = step(o, image(f"wamid.p{k}", f"media-{k}")).order
    return o, rma


def test_not_delivered_is_a_polite_no_with_the_reason() -> None:
    placed = dataclasses.replace(order(paid=True), stage=Stage.DISPATCHED)
    turn = dialogue.start(placed, T0, POLICY, window_open=True)
    assert turn.outcome is Outcome.IGNORED and turn.order.returns == ()
    (out,) = turn.sends
    assert out.message.body.startswith("Order #1001 has not been delivered yet, so it cannot be returned.")


def test_past_the_return_window_is_a_polite_no_with_the_date() -> None:
    late = T0 + timedelta(days=6)  # delivered 8 days before
    turn = dialogue.start(delivered(), late, POLICY, window_open=True)
    assert turn.outcome is Outcome.IGNORED and turn.order.returns == ()
    assert "delivered on Wed, 25 Nov" in turn.sends[0].message.body
    assert "accepted for 7 days" in turn.sends[0].message.body
    # On the last day of the window it is still possible; a shop may allow longer.
    assert dialogue.start(delivered(), DELIVERED_AT + timedelta(days=7), POLICY, True).order.returns
    longer = ShopPolicy(return_window_days=10)
    assert dialogue.start(delivered(), late, longer, True).outcome is Outcome.APPLIED


def test_eligible_order_opens_a_return_and_asks_for_the_reason() -> None:
    o, rma = opened()
    (case,) = o.returns
    assert (case.status, case.opened_at, rma) == (ReturnStatus.REQUESTED, T0, rules.new_rma(delivered()))
    assert rma.startswith("RMA") and len(rma) == 12
    turn = dialogue.start(delivered(), T0, POLICY, True)
    (out,) = turn.sends
    assert out.message.style is Style.LIST
    assert [c.id for c in out.message.choices] == [
        f"ret:reason:{rma}:{r}" for r in ("damaged", "wrong_item", "size_fit", "not_as_described", "other")
    ]
    # Asking again while it is open points to the return in progress instead of opening a second.
    again = dialogue.start(o, T0 + timedelta(minutes=1), POLICY, True)
    assert again.outcome is Outcome.DUPLICATE and again.order == o
    assert rma in again.sends[0].message.body


def test_report_a_problem_button_starts_a_return() -> None:
    turn = step(delivered(), tap("problem:o-1"))
    assert turn.outcome is Outcome.APPLIED and len(turn.order.returns) == 1


def test_damaged_asks_for_photos_each_recorded_and_downloaded() -> None:
    o, rma = opened()
    asked = step(o, tap(f"ret:reason:{rma}:damaged"))
    assert asked.order.returns[0].status is ReturnStatus.AWAITING_PHOTOS
    (out,) = asked.sends
    assert out.message.body == "Please send 1 to 3 photos of the item showing the problem, then tap Done."
    assert [c.id for c in out.message.choices] == [f"ret:done:{rma}"]
    first = step(asked.order, image("wamid.p0", "media-0"))
    assert first.calls[0].kind == MEDIA_DOWNLOAD and first.calls[0].payload == {
        "rma": rma,
        "media_id": "media-0",
        "mime": "image/jpeg",
        "wamid": "wamid.p0",
    }
    assert first.sends[0].message.body == "Photo 1 received. Send up to 2 more, or tap Done."
    second = step(first.order, image("wamid.p1", "media-1"))
    assert [p.media_id for p in second.order.returns[0].photos] == ["media-0", "media-1"]
    # The same message again records nothing more.
    again = step(second.order, image("wamid.p1", "media-1"))
    assert again.outcome is Outcome.DUPLICATE and again.calls == () and again.sends == ()


def test_photo_limits_and_non_photos() -> None:
    o, _ = with_photos(3)
    assert o.returns[0].photos[-1].wamid == "wamid.p2"
    extra = step(o, image("wamid.p3", "media-3"))
    assert extra.outcome is Outcome.IGNORED and extra.calls == ()
    assert extra.sends[0].message.body.startswith("You have sent 3 photos already")
    pdf = step(
        o, CustomerReplied(T0, "wamid.d", "document", "", "", media_id="m", media_mime="application/pdf")
    )
    assert pdf.outcome is Outcome.IGNORED and "Please send a photo" in pdf.sends[0].message.body
    sticker = CustomerReplied(T0, "wamid.s", "sticker", "", "", media_id="s", media_mime="image/webp")
    assert step(o, sticker).outcome is Outcome.IGNORED
    as_file = CustomerReplied(T0, "wamid.f", "document", "", "", media_id="f", media_mime="image/png")
    assert step(with_photos(1)[0], as_file).outcome is Outcome.APPLIED
    # No return awaits photos: a picture is only recorded.
    assert step(delivered(), image("wamid.z", "m")).outcome is Outcome.IGNORED


def test_done_needs_a_photo_then_offers_refund_or_replacement() -> None:
    o, rma = opened()
    o = step(o, tap(f"ret:reason:{rma}:wrong_item")).order
    early = step(o, tap(f"ret:done:{rma}"))
    assert early.outcome is Outcome.IGNORED and "at least one photo" in early.sends[0].message.body
    o = step(o, image("wamid.p0", "media-0")).order
    done = step(o, tap(f"ret:done:{rma}"))
    assert done.order.returns[0].status is ReturnStatus.REQUESTED
    (out,) = done.sends
    assert out.message.body == "Thank you. Would you like a refund of ₹1,23,456.00 or a replacement?"
    assert [c.id for c in out.message.choices] == [f"ret:refund:{rma}", f"ret:replacement:{rma}"]
    assert step(done.order, tap(f"ret:done:{rma}")).outcome is Outcome.DUPLICATE


def test_size_or_fit_needs_no_photos() -> None:
    o, rma = opened()
    turn = step(o, tap(f"ret:reason:{rma}:size_fit"))
    assert turn.order.returns[0].reason == "size_fit"
    assert [c.id for c in turn.sends[0].message.choices] == [f"ret:refund:{rma}", f"ret:replacement:{rma}"]


def test_refund_books_the_pickup_and_promises_a_timeline() -> None:
    o, rma = with_photos()
    o = step(o, tap(f"ret:done:{rma}")).order
    turn = step(o, tap(f"ret:refund:{rma}"))
    case = turn.order.returns[0]
    assert (case.status, case.resolution) == (ReturnStatus.PICKUP_REQUESTED, "refund")
    (call,) = turn.calls
    assert (call.kind, call.key, call.payload) == (
        RETURN_PICKUP,
        f"{rma}:pickup",
        {"rma": rma, "reason": "damaged", "resolution": "refund"},
    )
    assert turn.sends[0].message.body.endswith(
        "Your refund of ₹1,23,456.00 will be issued within 7 days of pickup."
    )
    (staff_case,) = turn.escalations
    assert (staff_case.reason, staff_case.key, staff_case.detail) == (
        "return_requested",
        f"{rma}:requested",
        {"rma": rma, "reason": "damaged", "resolution": "refund", "photos": "2"},
    )
    # Tapping again opens no second case; the window closing does not lose the case either.
    assert step(turn.order, tap(f"ret:refund:{rma}")).escalations == ()
    closed = dialogue.respond(o, tap(f"ret:replacement:{rma}"), T0, POLICY, window_open=False)
    assert [c.reason for c in closed.escalations] == ["return_requested", "window_closed"]


def test_stale_and_repeated_taps() -> None:
    o, rma = opened()
    assert step(o, tap(f"ret:refund:{rma}")).outcome is Outcome.STALE  # before any reason
    o = step(o, tap(f"ret:reason:{rma}:size_fit")).order
    assert step(o, tap(f"ret:reason:{rma}:size_fit")).outcome is Outcome.DUPLICATE
    assert step(o, tap(f"ret:reason:{rma}:damaged")).outcome is Outcome.STALE
    assert step(o, tap("ret:refund:RMAUNKNOWN00")).outcome is Outcome.STALE
    o = step(o, tap(f"ret:replacement:{rma}")).order
    assert step(o, tap(f"ret:replacement:{rma}")).outcome is Outcome.DUPLICATE
    assert step(o, tap(f"ret:refund:{rma}")).outcome is Outcome.STALE
    rejected = rules.reject(o, rma, T0, "Tags removed").order
    assert step(rejected, tap(f"ret:refund:{rma}")).outcome is Outcome.STALE


def test_window_closed_hands_the_message_to_staff() -> None:
    turn = dialogue.start(delivered(), T0, POLICY, window_open=False)
    assert turn.sends == () and turn.escalations[0].reason == "window_closed"


def test_hindi_messages_fit_whatsapp_limits() -> None:
    o, rma = opened("hi")
    turn = dialogue.start(delivered("hi"), T0, POLICY, True)
    check(turn.sends[0].message)
    o = step(o, tap(f"ret:reason:{rma}:damaged")).order
    o = step(o, image("wamid.p0", "m0")).order
    o = step(o, tap(f"ret:done:{rma}")).order
    assert "रिफ़ंड" in step(o, tap(f"ret:refund:{rma}")).sends[0].message.body


def _chosen(resolution: str = "refund") -> tuple[Order, str]:
    o, rma = with_photos()
    o = step(o, tap(f"ret:done:{rma}")).order
    return step(o, tap(f"ret:{resolution}:{rma}")).order, rma


def test_label_is_sent_as_a_document_with_the_timeline() -> None:
    o, rma = _chosen()
    turn = dialogue.label_sent(o, rma, "https://shop.example/returns/tok/label.pdf", POLICY, True)
    assert turn.order.returns[0].status is ReturnStatus.LABEL_SENT
    (out,) = turn.sends
    check(out.message)
    payload = session_payload("+919812345678", out.message)
    assert payload["type"] == "document"
    assert payload["document"]["link"] == "https://shop.example/returns/tok/label.pdf"
    assert payload["document"]["filename"] == f"return-{rma}.pdf"
    assert "within 7 days of pickup" in payload["document"]["caption"]
    assert dialogue.label_sent(turn.order, rma, "https://x", POLICY, True).outcome is Outcome.STALE


def test_pickup_booked_tells_courier_and_awb() -> None:
    o, rma = _chosen()
    turn = dialogue.pickup_booked(o, rma, "RET123", "Delhivery", None, True)
    case = turn.order.returns[0]
    assert (case.status, case.awb) == (ReturnStatus.PICKUP_BOOKED, "RET123")
    assert "Delhivery will collect the parcel in the next few days" in turn.sends[0].message.body


def test_staff_approving_before_the_pickup_is_arranged_still_gets_the_parcel_back() -> None:
    o, rma = _chosen()
    approved = rules.settle(o, rma, T0, POLICY, "approved by staff").order
    booked = dialogue.pickup_booked(approved, rma, "RET123", "Delhivery", None, True)
    case = booked.order.returns[0]
    assert (case.status, case.awb) == (ReturnStatus.REFUND_REQUESTED, "RET123")
    assert booked.sends[0].message.body.startswith(f"Pickup booked for return {rma}")
    labelled = dialogue.label_sent(approved, rma, "https://x/l.pdf", POLICY, True)
    assert labelled.order.returns[0].status is ReturnStatus.REFUND_REQUESTED and labelled.sends
    rejected = rules.reject(o, rma, T0, "no").order
    assert dialogue.label_sent(rejected, rma, "https://x", POLICY, True).outcome is Outcome.STALE


def _parcel(o: Order, awb: str, status: ShipmentStatus, at: datetime) -> ShipmentUpdated:
    return ShipmentUpdated(awb, status, at, courier="Delhivery", is_return=True)


def test_return_parcel_pickup_starts_the_refund_clock_and_arrival_asks_the_gateway() -> None:
    o, rma = _chosen()
    o = dialogue.label_sent(o, rma, "https://x/l.pdf", POLICY, True).order
    picked = decide(o, _parcel(o, "RET1", ShipmentStatus.IN_TRANSIT, T0 + timedelta(hours=1)), T0, POLICY)
    case = picked.order.returns[0]
    due = T0 + timedelta(hours=1, days=7)
    assert (case.awb, case.refund_due) == ("RET1", due)
    assert [(t.kind, t.due_at) for t in picked.timers] == [(f"refund_late:{rma}", due)]
    assert picked.order.stage is Stage.DELIVERED  # a return parcel never moves the order's stage
    arrived = decide(
        picked.order, _parcel(o, "RET1", ShipmentStatus.DELIVERED, T0 + timedelta(days=2)), T0, POLICY
    )
    case = arrived.order.returns[0]
    assert (case.status, case.refund_minor) == (ReturnStatus.REFUND_REQUESTED, 12345600)
    (call,) = arrived.calls
    assert (call.kind, call.key) == (PAYMENT_REFUND, f"{rma}:refund")
    assert call.payload == {
        "payment_ref": "pay_1",
        "amount_minor": "12345600",
        "currency": "INR",
        "reason": f"Return {rma}: damaged",
        "rma": rma,
    }
    (news,) = arrived.messages
    assert (news.kind, news.key) == (MessageKind.RETURN_UPDATE, f"{rma}:refund_started")
    out = compose(news.kind, arrived.order, news.awb, "tok")
    validate(out, load_catalogue()[out.template])
    assert out.body == (
        "#1001",
        rma,
        "We have started your refund of ₹1,23,456.00; it will reach you by Fri, 4 Dec.",
    )
    assert "return RET1 delivered back to the shop" in arrived.alerts
    # The same arrival again asks nothing more.
    again = decide(
        arrived.order, _parcel(o, "RET1", ShipmentStatus.DELIVERED, T0 + timedelta(days=2)), T0, POLICY
    )
    assert again.calls == () and again.outcome is Outcome.DUPLICATE


def _refund_asked() -> tuple[Order, str]:
    o, rma = _chosen()
    o = dialogue.pickup_booked(o, rma, "RET1", "Delhivery", None, True).order
    return decide(o, _parcel(o, "RET1", ShipmentStatus.RTO_DELIVERED, T0), T0, POLICY).order, rma


def test_refund_processed_tells_the_customer_with_the_bank_reference() -> None:
    o, rma = _refund_asked()
    news = RefundUpdated(T0, "rfnd_1", "processed", 12345600, "INR", "pay_1", "74123456789012345678901")
    done = decide(o, news, T0, POLICY)
    case = done.order.returns[0]
    assert (case.status, case.refund_ref, case.bank_ref) == (ReturnStatus.REFUNDED, "rfnd_1", news.bank_ref)
    (message,) = done.messages
    out = compose(message.kind, done.order, message.awb, "tok")
    validate(out, load_catalogue()[out.template])
    assert out.template == "order_refund_completed"
    assert out.body[2].startswith("Bank reference (ARN/UTR): 74123456789012345678901.")
    assert decide(done.order, news, T0, POLICY).outcome is Outcome.DUPLICATE
    hindi = compose(
        message.kind, dataclasses.replace(done.order, customer=order(language="hi").customer), rma, "t"
    )
    assert hindi.language == "hi" and "ARN/UTR" in hindi.body[2]


def test_refund_failed_goes_to_staff_and_late_refund_escalates() -> None:
    o, rma = _refund_asked()
    failed = decide(o, RefundUpdated(T0, "rfnd_1", "failed", reason="account closed"), T0, POLICY)
    (case,) = failed.escalations
    assert (case.reason, case.detail["reason"]) == ("refund_failed", "account closed")
    late = decide(failed.order, TimerFired(f"refund_late:{rma}", T0), T0, POLICY)
    assert late.escalations[0].reason == "refund_late"
    assert late.escalations[0].detail["refund_ref"] == "rfnd_1"
    done = decide(failed.order, RefundUpdated(T0, "rfnd_1", "processed"), T0, POLICY).order
    assert decide(done, TimerFired(f"refund_late:{rma}", T0), T0, POLICY).outcome is Outcome.STALE
    # A refund that is not a return's (a cancellation) is only recorded.
    assert (
        decide(delivered(), RefundUpdated(T0, "rfnd_9", "processed"), T0, POLICY).outcome is Outcome.IGNORED
    )


def test_replacement_goes_to_staff_on_arrival() -> None:
    o, rma = _chosen("replacement")
    o = dialogue.label_sent(o, rma, "https://x/l.pdf", POLICY, True).order
    arrived = decide(o, _parcel(o, "RET2", ShipmentStatus.DELIVERED, T0), T0, POLICY)
    assert arrived.order.returns[0].status is ReturnStatus.REPLACING and arrived.calls == ()
    assert arrived.escalations[0].reason == "send_replacement"


def test_staff_approve_reject_and_refund() -> None:
    o, rma = _chosen()
    approved = rules.settle(o, rma, T0, POLICY, "approved by staff")
    assert approved.calls[0].kind == PAYMENT_REFUND
    again = rules.settle(approved.order, rma, T0, POLICY, "approved by staff")
    assert (again.outcome, again.calls, again.messages) == (Outcome.DUPLICATE, (), ())
    rejected = rules.reject(o, rma, T0, "The tags were removed.")
    out = compose(MessageKind.RETURN_UPDATE, rejected.order, rma, "t")
    assert out.body[2] == "We could not accept it. The tags were removed."
    assert rules.reject(approved.order, rma, T0, "").outcome is Outcome.STALE
    partial = rules.issue_refund(rejected.order, rma, T0, POLICY)
    assert partial.outcome is Outcome.STALE
    o2, rma2 = _chosen("replacement")
    part = rules.issue_refund(o2, rma2, T0, POLICY, amount_minor=5000)
    assert part.calls[0].payload["amount_minor"] == "5000"
    with pytest.raises(ValueError):
        rules.issue_refund(o2, rma2, T0, POLICY, amount_minor=10**12)


def test_cash_on_delivery_refund_has_no_payment_reference() -> None:
    o = delivered(payment=PaymentMethod.COD)
    rma = dialogue.start(o, T0, POLICY, True).order.returns[0].rma
    assert rules.payment_ref(o) == "" and rma


def test_return_state_survives_json() -> None:
    o, _ = _refund_asked()
    assert order_from_json(to_json(o)) == o


def test_image_message_parsed_with_media_id_and_type() -> None:
    body = customer_message_webhook(
        "123", "+919812345678", "Asha", T0, "wamid.i", "broken box", media=("image", "987654", "image/jpeg")
    )
    (message,) = parse(body).messages
    assert (message.type, message.media_id, message.media_mime, message.text) == (
        "image",
        "987654",
        "image/jpeg",
        "broken box",
    )


def test_label_pdf_holds_the_rma_and_its_barcode() -> None:
    data = LabelData(
        "RMA7K3QX9P2M", "#1001", "Demo Shop", ("14 Peenya", "Bengaluru 560058"), ("Asha Rao",), "damaged"
    )
    pdf = render(data)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    text = page.extract_text()
    assert "RMA7K3QX9P2M" in text and "Bengaluru 560058" in text and "Order #1001" in text
    # Every bar of the RMA's Code128 encoding is drawn as a filled rectangle.
    code: Code128 = barcode(data.rma)
    code.validate()
    code.encode()
    code.decompose()
    bars = code.decomposed[0::2]  # bars and spaces alternate, starting with a bar
    drawn = page.get_contents().get_data().count(b" re")  # type: ignore[union-attr]
    assert drawn >= len(bars) > 20
