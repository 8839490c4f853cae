"""The returns dialogue: eligibility, the reason, photos of a damaged or wrong item, refund or replacement.

Pure: (order, reply, now, policy, window_open) -> Turn. Reply ids start with `ret:`:
`ret:start:<order id>` (or `start()` called by the intent router), `ret:reason:<RMA>:<reason>` (list rows),
`ret:done:<RMA>` (after the photos), `ret:refund:<RMA>` / `ret:replacement:<RMA>`. Each photo message is
recorded on the return and downloaded at once by a `MEDIA_DOWNLOAD` vendor call (the Graph media URL
expires in minutes). The customer's choice asks for a `RETURN_PICKUP` call: a Shiprocket reverse pickup,
else a printable label (app/returns.py), which comes back here as `pickup_booked` or `label_sent`; it also
opens the `return_requested` staff case (once per RMA), where staff approve, reject or refund it.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

from orderwire.bot.turn import Outgoing, Turn
from orderwire.domain.events import CustomerReplied
from orderwire.domain.interactive import Choice, SessionMessage, Style
from orderwire.domain.lifecycle import MEDIA_DOWNLOAD, RETURN_PICKUP, Escalation, Outcome, VendorCall
from orderwire.domain.messages import format_day, format_money, language_for
from orderwire.domain.model import Order, ReturnCase, ReturnPhoto, ReturnStatus, Stage
from orderwire.domain.policy import ShopPolicy
from orderwire.domain.returns import REFUND, REPLACEMENT, new_rma

PREFIX = "ret:"
PROBLEM_PREFIX = "problem:"  # the `order_delivered` template's "Report a problem" quick reply
DIALOGUE = "returns"
STAFF_CASE = "return_requested"  # opened once the customer has chosen a refund or a replacement
REASONS = ("damaged", "wrong_item", "size_fit", "not_as_described", "other")
PHOTO_REASONS = frozenset({"damaged", "wrong_item"})
_DELIVERED = frozenset({Stage.DELIVERED, Stage.FOLLOWED_UP})
# The pickup or label is asked for once, when the customer chooses; staff may approve or refund the return
# (its case opens then) before it is arranged, and the customer still needs it to send the item back.
_PICKUP_AWAITED = frozenset(
    {ReturnStatus.PICKUP_REQUESTED, ReturnStatus.REFUND_REQUESTED, ReturnStatus.REPLACING}
)

_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "damaged": "Damaged",
        "wrong_item": "Wrong item",
        "size_fit": "Size or fit",
        "not_as_described": "Not as described",
        "other": "Other reason",
        "reason_row": "Return for this reason",
        "reasons": "Sorry to hear that. Why would you like to return order {number}? (Return {rma})",
        "reason_button": "Choose a reason",
        "not_delivered": "Order {number} has not been delivered yet, so it cannot be returned. Once it "
        "arrives you can ask for a return within {days} days.",
        "past_window": "Order {number} was delivered on {day}. Returns are accepted for {days} days after "
        "delivery, so this order can no longer be returned. Reply here if something is wrong and our "
        "team will look into it.",
        "in_progress": "Your return {rma} for order {number} is already in progress. We will keep you "
        "posted here.",
        "photos": "Please send 1 to {most} photos of the item showing the problem, then tap Done.",
        "photo_ok": "Photo {n} received. Send up to {more} more, or tap Done.",
        "photo_last": "Photo {n} received. Tap Done to continue.",
        "photo_max": "You have sent {most} photos already, which is enough. Tap Done to continue.",
        "photo_only": "Please send a photo (an image) of the item, then tap Done.",
        "need_photo": "Please send at least one photo of the item first, then tap Done.",
        "done": "Done",
        "resolution": "Thank you. Would you like a refund of {amount} or a replacement?",
        "refund": "Refund",
        "replacement": "Replacement",
        "confirm_refund": "Thank you. Return {rma} for order {number} is registered; we are arranging "
        "the pickup and will send you the details here. Your refund of {amount} will be issued within "
        "{days} days of pickup.",
        "confirm_replacement": "Thank you. Return {rma} for order {number} is registered; we are "
        "arranging the pickup and will send you the details here. We will send the replacement once "
        "the item is picked up.",
        "booked": "Pickup booked for return {rma}: {courier} will collect the parcel {when}. Please pack "
        "the item with its tags. Return tracking number: {awb}.",
        "booked_soon": "in the next few days",
        "booked_on": "on {day}",
        "our_courier": "our courier partner",
        "label": "Return label for {rma} (order {number}). Print it, stick it on the parcel and hand it "
        "to the courier. {timeline}",
        "refund_timeline": "Your refund of {amount} will be issued within {days} days of pickup.",
        "replacement_timeline": "We will send the replacement once we receive the item.",
    },
    "hi": {
        "damaged": "सामान टूटा हुआ है",
        "wrong_item": "ग़लत सामान आया",
        "size_fit": "साइज़ या फ़िटिंग",
        "not_as_described": "जैसा बताया था वैसा नहीं",
        "other": "कोई और कारण",
        "reason_row": "इस कारण से वापसी",
        "reasons": "यह सुनकर दुख हुआ। आप ऑर्डर {number} क्यों लौटाना चाहते हैं? (वापसी {rma})",
        "reason_button": "कारण चुनें",
        "not_delivered": "ऑर्डर {number} अभी डिलीवर नहीं हुआ है, इसलिए इसे लौटाया नहीं जा सकता। डिलीवरी के "
        "बाद {days} दिनों के अंदर आप वापसी माँग सकते हैं।",
        "past_window": "ऑर्डर {number} {day} को डिलीवर हुआ था। वापसी डिलीवरी के {days} दिनों के अंदर ही होती "
        "है, इसलिए यह ऑर्डर अब लौटाया नहीं जा सकता। कुछ ग़लत है तो यहीं जवाब दें, हमारी टीम देखेगी।",
        "in_progress": "ऑर्डर {number} की आपकी वापसी {rma} पहले से चल रही है। हम आपको यहीं जानकारी देते रहेंगे।",
        "photos": "कृपया सामान की 1 से {most} फ़ोटो भेजें जिनमें समस्या दिखे, फिर 'हो गया' दबाएँ।",
        "photo_ok": "फ़ोटो {n} मिल गई। {more} और भेज सकते हैं, या 'हो गया' दबाएँ।",
        "photo_last": "फ़ोटो {n} मिल गई। आगे बढ़ने के लिए 'हो गया' दबाएँ।",
        "photo_max": "आप {most} फ़ोटो भेज चुके हैं, इतनी काफ़ी हैं। आगे बढ़ने के लिए 'हो गया' दबाएँ।",
        "photo_only": "कृपया सामान की फ़ोटो (तस्वीर) भेजें, फिर 'हो गया' दबाएँ।",
        "need_photo": "कृपया पहले सामान की कम से कम एक फ़ोटो भेजें, फिर 'हो गया' दबाएँ।",
        "done": "हो गया",
        "resolution": "धन्यवाद। आप {amount} का रिफ़ंड चाहेंगे या बदला हुआ सामान?",
        "refund": "रिफ़ंड",
        "replacement": "बदला हुआ सामान",
        "confirm_refund": "धन्यवाद। ऑर्डर {number} की वापसी {rma} दर्ज हो गई है; हम पिकअप की व्यवस्था कर रहे "
        "हैं और जानकारी यहीं भेजेंगे। पिकअप के {days} दिनों के अंदर आपका {amount} का रिफ़ंड कर दिया जाएगा।",
        "confirm_replacement": "धन्यवाद। ऑर्डर {number} की वापसी {rma} दर्ज हो गई है; हम पिकअप की व्यवस्था "
        "कर रहे हैं और जानकारी यहीं भेजेंगे। पिकअप होते ही हम बदला हुआ सामान भेजेंगे।",
        "booked": "वापसी {rma} का पिकअप बुक हो गया: {courier} {when} पार्सल ले जाएगा। कृपया सामान टैग के साथ "
        "पैक करें। वापसी ट्रैकिंग नंबर: {awb}।",
        "booked_soon": "अगले कुछ दिनों में",
        "booked_on": "{day} को",
        "our_courier": "हमारा कूरियर पार्टनर",
        "label": "वापसी {rma} (ऑर्डर {number}) का लेबल। इसे प्रिंट करके पार्सल पर चिपकाएँ और कूरियर को दें। {timeline}",
        "refund_timeline": "पिकअप के {days} दिनों के अंदर आपका {amount} का रिफ़ंड कर दिया जाएगा।",
        "replacement_timeline": "सामान मिलते ही हम बदला हुआ सामान भेजेंगे।",
    },
}


def _words(order: Order) -> tuple[str, dict[str, str]]:
    lang = language_for(order.customer.language)
    return lang, _WORDS[lang]


def _say(turn: Turn, key: str, message: SessionMessage, window_open: bool) -> Turn:
    """Add a session message keyed `key`, or, once the service window has closed, a case for staff."""
    if not window_open:
        case = Escalation("window_closed", "", f"{key}:window_closed", {"unsent": message.body[:500]})
        return dataclasses.replace(turn, escalations=(*turn.escalations, case))
    return dataclasses.replace(turn, sends=(*turn.sends, Outgoing(DIALOGUE, key, message)))


def _text(body: str) -> SessionMessage:
    return SessionMessage(Style.TEXT, body)


def _done_button(body: str, rma: str, words: dict[str, str]) -> SessionMessage:
    return SessionMessage(Style.BUTTONS, body, (Choice(f"{PREFIX}done:{rma}", words["done"]),))


def start(order: Order, now: datetime, policy: ShopPolicy, window_open: bool) -> Turn:
    """The customer asks to return or exchange the order: refuse politely with the reason, or ask why."""
    lang, words = _words(order)
    current = next((r for r in order.returns if r.open), None)
    asked = now.isoformat()
    if current is not None:
        text = words["in_progress"].format(rma=current.rma, number=order.number)
        turn = Turn(order, Outcome.DUPLICATE, f"return {current.rma} already in progress")
        return _say(turn, f"{current.rma}:in_progress:{asked}", _text(text), window_open)
    days = policy.return_window_days
    if order.delivered_at is None or order.stage not in _DELIVERED:
        text = words["not_delivered"].format(number=order.number, days=days)
        turn = Turn(order, Outcome.IGNORED, f"return refused: order {order.stage.value}, not delivered")
        return _say(turn, f"return_refused:{asked}", _text(text), window_open)
    if now > order.delivered_at + timedelta(days=days):
        day = format_day(order.delivered_at.date(), lang)
        text = words["past_window"].format(number=order.number, day=day, days=days)
        turn = Turn(order, Outcome.IGNORED, f"return refused: delivered more than {days} days ago")
        return _say(turn, f"return_refused:{asked}", _text(text), window_open)
    rma = new_rma(order)
    case = ReturnCase(rma=rma, opened_at=now)
    rows = tuple(Choice(f"{PREFIX}reason:{rma}:{r}", words[r], words["reason_row"]) for r in REASONS)
    body = words["reasons"].format(number=order.number, rma=rma)
    ask = SessionMessage(Style.LIST, body, rows, words["reason_button"])
    turn = Turn(order.with_return(case), Outcome.APPLIED, f"return {rma} opened")
    return _say(turn, f"{rma}:reasons", ask, window_open)


def awaiting_photos(order: Order) -> ReturnCase | None:
    """The return waiting for photos of the item, if any."""
    return next((r for r in order.returns if r.status is ReturnStatus.AWAITING_PHOTOS), None)


def respond(
    order: Order, reply: CustomerReplied, now: datetime, policy: ShopPolicy, window_open: bool
) -> Turn:
    """Answer one `ret:` tap: start, a reason, Done after the photos, refund or replacement."""
    action, _, rest = reply.reply_id.removeprefix(PREFIX).partition(":")
    if action == "start":
        return start(order, now, policy, window_open)
    rma, _, arg = rest.partition(":")
    case = order.return_case(rma)
    if case is None or not case.open:
        return Turn(order, Outcome.STALE, f"return tap {action!r}: return {rma} is not open")
    if action == "reason":
        return _reason(order, case, arg, policy, window_open)
    if action == "done":
        return _done(order, case, reply, window_open)
    if action in (REFUND, REPLACEMENT):
        return _resolution(order, case, action, policy, window_open)
    return Turn(order, Outcome.IGNORED, f"return {rma}: unknown choice {action!r}")


def _reason(order: Order, case: ReturnCase, reason: str, policy: ShopPolicy, window_open: bool) -> Turn:
    _, words = _words(order)
    if case.reason:
        outcome = Outcome.DUPLICATE if case.reason == reason else Outcome.STALE
        return Turn(order, outcome, f"return {case.rma}: reason already given ({case.reason})")
    if reason not in REASONS:
        return Turn(order, Outcome.IGNORED, f"return {case.rma}: unknown reason {reason!r}")
    if reason in PHOTO_REASONS:
        waiting = dataclasses.replace(case, reason=reason, status=ReturnStatus.AWAITING_PHOTOS)
        turn = Turn(order.with_return(waiting), Outcome.APPLIED, f"return {case.rma}: {reason}, photos asked")
        ask = _done_button(words["photos"].format(most=policy.return_photos_max), case.rma, words)
        return _say(turn, f"{case.rma}:photos", ask, window_open)
    chosen = dataclasses.replace(case, reason=reason)
    turn = Turn(order.with_return(chosen), Outcome.APPLIED, f"return {case.rma}: {reason}")
    return _ask_resolution(turn, chosen, window_open)


def _ask_resolution(turn: Turn, case: ReturnCase, window_open: bool) -> Turn:
    lang, words = _words(turn.order)
    amount = format_money(turn.order.total, lang)
    choices = (
        Choice(f"{PREFIX}{REFUND}:{case.rma}", words["refund"]),
        Choice(f"{PREFIX}{REPLACEMENT}:{case.rma}", words["replacement"]),
    )
    ask = SessionMessage(Style.BUTTONS, words["resolution"].format(amount=amount), choices)
    return _say(turn, f"{case.rma}:resolution", ask, window_open)


def photo(order: Order, reply: CustomerReplied, policy: ShopPolicy, window_open: bool) -> Turn:
    """A photo for the return awaiting them: recorded, downloaded at once, acknowledged."""
    _, words = _words(order)
    case = awaiting_photos(order)
    if case is None:
        return Turn(order, Outcome.IGNORED, "media received; no return awaits photos")
    rma = case.rma
    if any(p.wamid == reply.wamid for p in case.photos):
        return Turn(order, Outcome.DUPLICATE, f"return {rma}: photo seen before")
    # A photo, or a picture sent as a file; stickers and other media are not evidence.
    if not (
        reply.message_type == "image"
        or (reply.message_type == "document" and reply.media_mime.startswith("image/"))
    ):
        turn = Turn(order, Outcome.IGNORED, f"return {rma}: {reply.message_type} is not a photo")
        return _say(turn, f"{rma}:photo_only:{reply.wamid}", _text(words["photo_only"]), window_open)
    most = policy.return_photos_max
    if len(case.photos) >= most:
        turn = Turn(order, Outcome.IGNORED, f"return {rma}: photo beyond the {most} asked for")
        notice = _done_button(words["photo_max"].format(most=most), rma, words)
        return _say(turn, f"{rma}:photo_max", notice, window_open)
    kept = ReturnPhoto(reply.wamid, reply.media_id, reply.media_mime)
    updated = dataclasses.replace(case, photos=(*case.photos, kept))
    n = len(updated.photos)
    download = VendorCall(
        MEDIA_DOWNLOAD,
        f"{rma}:photo:{reply.wamid}",
        {"rma": rma, "media_id": reply.media_id, "mime": reply.media_mime, "wamid": reply.wamid},
    )
    turn = Turn(order.with_return(updated), Outcome.APPLIED, f"return {rma}: photo {n}", calls=(download,))
    body = words["photo_ok"].format(n=n, more=most - n) if n < most else words["photo_last"].format(n=n)
    return _say(turn, f"{rma}:photo:{n}", _done_button(body, rma, words), window_open)


def _done(order: Order, case: ReturnCase, reply: CustomerReplied, window_open: bool) -> Turn:
    _, words = _words(order)
    if case.status is not ReturnStatus.AWAITING_PHOTOS:
        return Turn(order, Outcome.DUPLICATE, f"return {case.rma}: photos already done")
    if not case.photos:
        turn = Turn(order, Outcome.IGNORED, f"return {case.rma}: Done before any photo")
        notice = _done_button(words["need_photo"], case.rma, words)
        return _say(turn, f"{case.rma}:need_photo:{reply.wamid}", notice, window_open)
    ready = dataclasses.replace(case, status=ReturnStatus.REQUESTED)
    turn = Turn(order.with_return(ready), Outcome.APPLIED, f"return {case.rma}: {len(case.photos)} photo(s)")
    return _ask_resolution(turn, ready, window_open)


def _resolution(order: Order, case: ReturnCase, choice: str, policy: ShopPolicy, window_open: bool) -> Turn:
    lang, words = _words(order)
    if case.resolution:
        outcome = Outcome.DUPLICATE if case.resolution == choice else Outcome.STALE
        return Turn(order, outcome, f"return {case.rma}: already chose {case.resolution}")
    if case.status is not ReturnStatus.REQUESTED or not case.reason:
        return Turn(order, Outcome.STALE, f"return {case.rma}: {choice} tapped before the reason or photos")
    chosen = dataclasses.replace(case, resolution=choice, status=ReturnStatus.PICKUP_REQUESTED)
    pickup = VendorCall(
        RETURN_PICKUP, f"{case.rma}:pickup", {"rma": case.rma, "reason": case.reason, "resolution": choice}
    )
    turn = Turn(
        order.with_return(chosen),
        Outcome.APPLIED,
        f"return {case.rma}: {choice}",
        calls=(pickup,),
        escalations=(requested_case(chosen),),
    )
    amount = format_money(order.total, lang)
    text = words[f"confirm_{choice}"].format(
        rma=case.rma, number=order.number, amount=amount, days=policy.refund_days
    )
    return _say(turn, f"{case.rma}:confirm", _text(text), window_open)


def requested_case(case: ReturnCase) -> Escalation:
    """The staff case for a return the customer has completed: they approve, reject or refund it."""
    detail = {
        "rma": case.rma,
        "reason": case.reason,
        "resolution": case.resolution,
        "photos": str(len(case.photos)),
    }
    return Escalation(STAFF_CASE, case.awb, f"{case.rma}:requested", detail)


def _after_pickup(case: ReturnCase, arranged: ReturnStatus) -> ReturnStatus:
    """Pickup or label arranged; a staff decision taken meanwhile (refund asked, replacement) stands."""
    return arranged if case.status is ReturnStatus.PICKUP_REQUESTED else case.status


def pickup_booked(
    order: Order, rma: str, awb: str, courier: str, pickup_date: date | None, window_open: bool
) -> Turn:
    """The courier booked the reverse pickup: the customer hears when and by whom."""
    lang, words = _words(order)
    case = order.return_case(rma)
    if case is None or case.status not in _PICKUP_AWAITED:
        return Turn(order, Outcome.STALE, f"return {rma}: no pickup awaited")
    booked = dataclasses.replace(case, status=_after_pickup(case, ReturnStatus.PICKUP_BOOKED), awb=awb)
    when = (
        words["booked_on"].format(day=format_day(pickup_date, lang)) if pickup_date else words["booked_soon"]
    )
    text = words["booked"].format(rma=rma, courier=courier or words["our_courier"], when=when, awb=awb)
    turn = Turn(order.with_return(booked), Outcome.APPLIED, f"return {rma}: pickup booked ({awb})")
    return _say(turn, f"{rma}:booked", _text(text), window_open)


def label_sent(order: Order, rma: str, link: str, policy: ShopPolicy, window_open: bool) -> Turn:
    """No courier API: the customer gets a printable return label as a document, with the refund timeline."""
    lang, words = _words(order)
    case = order.return_case(rma)
    if case is None or case.status not in _PICKUP_AWAITED:
        return Turn(order, Outcome.STALE, f"return {rma}: no label awaited")
    labelled = dataclasses.replace(case, status=_after_pickup(case, ReturnStatus.LABEL_SENT))
    timeline = (
        words["refund_timeline"].format(amount=format_money(order.total, lang), days=policy.refund_days)
        if case.resolution == REFUND
        else words["replacement_timeline"]
    )
    caption = words["label"].format(rma=rma, number=order.number, timeline=timeline)
    document = SessionMessage(Style.DOCUMENT, caption, link=link, filename=f"return-{rma}.pdf")
    turn = Turn(order.with_return(labelled), Outcome.APPLIED, f"return {rma}: label sent")
    return _say(turn, f"{rma}:label", document, window_open)
