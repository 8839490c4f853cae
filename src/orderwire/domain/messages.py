"""compose(kind, order, ...): which template to send and with which values, in the customer's language.

Formatting uses babel's locale data (pure lookups, no clock, no network): ₹1,23,456.00 for en_IN.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from urllib.parse import quote

from babel.dates import format_date
from babel.numbers import format_currency, get_currency_precision

from orderwire.domain.lifecycle import MessageKind
from orderwire.domain.model import Money, Order, Shipment
from orderwire.domain.templates import ButtonParameter, OutboundMessage

TEMPLATE_FOR: dict[MessageKind, str] = {
    MessageKind.CONFIRMATION: "order_confirmation",
    MessageKind.PROCESSING: "order_processing",
    MessageKind.DISPATCHED: "order_dispatched",
    MessageKind.OUT_FOR_DELIVERY: "order_out_for_delivery",
    MessageKind.DELIVERY_FAILED: "order_delivery_failed",
    MessageKind.DELIVERY_FAILED_AGAIN: "order_delivery_failed_again",
    MessageKind.NDR_REMINDER: "order_ndr_reminder",
    MessageKind.RTO_INITIATED: "order_rto_initiated",
    MessageKind.DELIVERED: "order_delivered",
    MessageKind.FOLLOW_UP: "order_follow_up",
    MessageKind.CANCELLED: "order_cancelled",
    MessageKind.DELAYED: "order_delayed",
    # commerce
    MessageKind.COD_CONFIRM: "order_cod_confirm",
    MessageKind.COD_REMINDER: "order_cod_reminder",
    MessageKind.PAYMENT_FAILED: "order_payment_failed",
    MessageKind.REFUND_COMPLETED: "order_refund_completed",  # returns
    MessageKind.RETURN_UPDATE: "order_return_update",  # returns
    MessageKind.REPLENISH: "order_replenish",  # replenishment offers (MARKETING)
}

SUPPORTED_LANGUAGES = ("en", "hi")
_LOCALE = {"en": "en_IN", "hi": "hi_IN"}

# Short phrases that fill optional slots; a template parameter can never be empty.
_PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "today": "today",
        "between": "today, {window}",
        "agent": "Your delivery agent can be reached on {phone}.",
        "no_agent": "Please keep your phone reachable.",
        "unknown_edd": "to be confirmed",
        "no_reason": "no reason given",
        "refund": "If you paid online, the refund reaches your account in 5-7 working days.",
        "cod_cancel": "Nothing is due from you.",
        "friend": "there",
        "retry": "You can pay again here: {url}",
        "retry_later": "You can try again from your order page on our website.",
        # returns
        "bank_ref": "Bank reference (ARN/UTR): {ref}. Your bank may take 2-3 working days to show it.",
        "no_bank_ref": "Your bank may take up to 5 working days to show it in your account.",
        "refund_started": "We have started your refund of {amount}; it will reach you by {day}.",
        "replacing": "We have accepted it and will send your replacement soon.",
        "rejected": "We could not accept it. {note}",
        "no_note": "Reply here and our team will explain.",
        # replenishment offers
        "reorder": "Order it again here: {url}",
        "reorder_reply": "Reply to this message and we will help you order it again.",
    },
    "hi": {
        "today": "आज",
        "between": "आज, {window}",
        "agent": "डिलीवरी एजेंट का नंबर: {phone}",
        "no_agent": "कृपया अपना फ़ोन चालू रखें।",
        "unknown_edd": "जल्द बताई जाएगी",
        "no_reason": "कारण नहीं बताया गया",
        "refund": "अगर आपने ऑनलाइन भुगतान किया है, तो रिफ़ंड 5-7 कार्यदिवसों में आपके खाते में आ जाएगा।",
        "cod_cancel": "आपको कुछ भी भुगतान नहीं करना है।",
        "friend": "नमस्ते",
        "retry": "आप यहाँ फिर से भुगतान कर सकते हैं: {url}",
        "retry_later": "आप हमारी वेबसाइट पर अपने ऑर्डर पेज से फिर से भुगतान कर सकते हैं।",
        # returns
        "bank_ref": "बैंक संदर्भ (ARN/UTR): {ref}। आपके बैंक में दिखने में 2-3 कार्यदिवस लग सकते हैं।",
        "no_bank_ref": "आपके खाते में दिखने में 5 कार्यदिवस तक लग सकते हैं।",
        "refund_started": "हमने आपका {amount} का रिफ़ंड शुरू कर दिया है; यह {day} तक आपको मिल जाएगा।",
        "replacing": "हमने इसे स्वीकार कर लिया है और जल्द ही बदला हुआ सामान भेजेंगे।",
        "rejected": "हम इसे स्वीकार नहीं कर सके। {note}",
        "no_note": "यहीं जवाब दें, हमारी टीम समझाएगी।",
        # replenishment offers
        "reorder": "यहाँ फिर से ऑर्डर करें: {url}",
        "reorder_reply": "फिर से ऑर्डर करने के लिए इस संदेश का जवाब दें, हम मदद करेंगे।",
    },
}


def language_for(preferred: str) -> str:
    """The supported language closest to the customer's preference ('hi-IN' -> 'hi')."""
    base = preferred.lower().split("-")[0].split("_")[0]
    return base if base in SUPPORTED_LANGUAGES else "en"


def format_money(money: Money, language: str) -> str:
    """₹1,23,456.00 — grouped and symbolised for the customer's locale."""
    digits = get_currency_precision(money.currency)
    amount = Decimal(money.minor).scaleb(-digits)
    return str(format_currency(amount, money.currency, locale=_LOCALE[language]))


def format_day(day: date | None, language: str) -> str:
    """'Thu, 3 Dec' in the customer's language."""
    if day is None:
        return _PHRASES[language]["unknown_edd"]
    return str(format_date(day, format="EEE, d MMM", locale=_LOCALE[language]))


def _one_line(text: str, limit: int = 200) -> str:
    """Template parameters may not hold newlines or runs of spaces (error 132018)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _address(order: Order) -> str:
    a = order.address
    parts = [a.line1, a.line2, a.landmark, a.city, a.state, a.pincode]
    return _one_line(", ".join(p for p in parts if p))


def compose(
    kind: MessageKind, order: Order, awb: str, tracking_token: str, reorder_url: str = ""
) -> OutboundMessage:
    """The template message for `kind`, filled from the order (and the shipment `awb`).

    For a replenishment offer `awb` names the SKU offered, and `reorder_url` (the shop's page, "{sku}" in it
    replaced by the SKU) is where the customer can order it again; without it they are asked to reply.
    """
    lang = language_for(order.customer.language)
    words = _PHRASES[lang]
    name = _one_line(order.customer.name.split(" ")[0] if order.customer.name else words["friend"])
    number = _one_line(order.number)
    shipment = order.shipment(awb) if awb else None
    track = ButtonParameter(0, "url", tracking_token)
    template = TEMPLATE_FOR[kind]

    def message(body: tuple[str, ...], **extra: object) -> OutboundMessage:
        return OutboundMessage(template, lang, body, **extra)  # type: ignore[arg-type]

    if kind is MessageKind.CONFIRMATION:
        return message(
            (
                name,
                number,
                _one_line(order.item_summary),
                format_money(order.total, lang),
                _address(order),
                format_day(order.expected_delivery, lang),
            ),
            header=(number,),
        )
    if kind is MessageKind.PROCESSING:
        return message((name, number))
    if kind is MessageKind.DISPATCHED:
        s = _require(shipment, awb)
        courier = _one_line(s.courier or "our courier partner")
        edd = format_day(s.edd or order.expected_delivery, lang)
        return message((number, courier, _one_line(s.awb), edd), buttons=(track,))
    if kind is MessageKind.OUT_FOR_DELIVERY:
        s = _require(shipment, awb)
        when = words["between"].format(window=s.delivery_window) if s.delivery_window else words["today"]
        agent = words["agent"].format(phone=s.agent_phone) if s.agent_phone else words["no_agent"]
        return message((number, _one_line(when), _one_line(agent)), buttons=(track,))
    ndr_choices = (
        ButtonParameter(0, "quick_reply", f"ndr:reschedule:{awb}"),
        ButtonParameter(1, "quick_reply", f"ndr:change_address:{awb}"),
        ButtonParameter(2, "quick_reply", f"ndr:return:{awb}"),
    )
    if kind in (MessageKind.DELIVERY_FAILED, MessageKind.DELIVERY_FAILED_AGAIN):
        s = _require(shipment, awb)
        reason = _one_line(s.failure_reason or words["no_reason"], 120)
        return message((number, reason), buttons=ndr_choices)
    if kind is MessageKind.NDR_REMINDER:
        return message((number,), buttons=ndr_choices)
    if kind is MessageKind.RTO_INITIATED:
        return message(
            (number,),
            buttons=(
                ButtonParameter(0, "quick_reply", f"rto:reorder:{order.order_id}"),
                ButtonParameter(1, "quick_reply", f"rto:refund:{order.order_id}"),
            ),
        )
    if kind is MessageKind.DELAYED:
        s = _require(shipment, awb)
        return message((number, format_day(s.edd or order.expected_delivery, lang)), buttons=(track,))
    if kind is MessageKind.DELIVERED:
        return message(
            (number, _one_line(order.item_summary)),
            buttons=(ButtonParameter(0, "quick_reply", f"problem:{order.order_id}"),),
        )
    if kind is MessageKind.FOLLOW_UP:
        first_item = _one_line(order.items[0].name if order.items else number, 60)
        return message(
            (name, first_item, number),
            buttons=tuple(
                ButtonParameter(i, "quick_reply", f"rating:{score}:{order.order_id}")
                for i, score in enumerate((5, 3, 1))
            ),
        )
    commerce = _commerce(kind, order, lang, name, number)
    if commerce is not None:
        return commerce
    if kind in (MessageKind.REFUND_COMPLETED, MessageKind.RETURN_UPDATE):
        return _return_message(kind, order, awb, lang, message)
    if kind is MessageKind.REPLENISH:
        item = next((i for i in order.items if i.sku == awb), order.items[0] if order.items else None)
        product = _one_line(item.name if item else number, 60)
        link = reorder_url.replace("{sku}", quote(awb, safe="")) if reorder_url else ""
        reorder = words["reorder"].format(url=link) if link else words["reorder_reply"]
        return message((name, product, _one_line(reorder, _RETRY_URL_LIMIT)))
    refund = words["refund"] if order.paid else words["cod_cancel"]
    return message((number, _one_line(refund)))


def _return_message(
    kind: MessageKind, order: Order, rma: str, lang: str, message: Callable[..., OutboundMessage]
) -> OutboundMessage:
    """Returns: news of return `rma` (the intent's `awb` slot carries the RMA for these kinds)."""
    from orderwire.domain.model import ReturnStatus

    case = order.return_case(rma)
    if case is None:
        raise ValueError(f"order has no return {rma!r}")
    words = _PHRASES[lang]
    number = _one_line(order.number)
    amount = format_money(Money(case.refund_minor or order.total.minor, order.total.currency), lang)
    if kind is MessageKind.REFUND_COMPLETED:
        ref = words["bank_ref"].format(ref=case.bank_ref) if case.bank_ref else words["no_bank_ref"]
        return message((number, amount, _one_line(ref)))
    if case.status is ReturnStatus.REJECTED:
        news = words["rejected"].format(note=case.note or words["no_note"])
    elif case.status is ReturnStatus.REPLACING:
        news = words["replacing"]
    else:
        due = case.refund_due.date() if case.refund_due else None
        news = words["refund_started"].format(amount=amount, day=format_day(due, lang))
    return message((number, _one_line(case.rma), _one_line(news, 300)))


def _require(shipment: Shipment | None, awb: str) -> Shipment:
    if shipment is None:
        raise ValueError(f"order has no shipment {awb!r}")
    return shipment


# commerce: the COD confirmation request and reminder (quick replies `cod:confirm:<order id>` and
# `cod:cancel:<order id>`, answered by bot/cod.py) and the failed-payment retry message.
COD_CONFIRM_REPLY = "cod:confirm:"
COD_CANCEL_REPLY = "cod:cancel:"
_RETRY_URL_LIMIT = 600


def _commerce(kind: MessageKind, order: Order, lang: str, name: str, number: str) -> OutboundMessage | None:
    template = TEMPLATE_FOR[kind]
    answers = (
        ButtonParameter(0, "quick_reply", f"{COD_CONFIRM_REPLY}{order.order_id}"),
        ButtonParameter(1, "quick_reply", f"{COD_CANCEL_REPLY}{order.order_id}"),
    )
    total = format_money(order.total, lang)
    if kind is MessageKind.COD_CONFIRM:
        body = (
            name,
            number,
            _one_line(order.item_summary),
            total,
            _address(order),
            format_day(order.expected_delivery, lang),
        )
        return OutboundMessage(template, lang, body, buttons=answers)
    if kind is MessageKind.COD_REMINDER:
        return OutboundMessage(template, lang, (number, total), buttons=answers)
    if kind is MessageKind.PAYMENT_FAILED:
        words = _PHRASES[lang]
        url = order.payment_retry_url
        retry = words["retry"].format(url=url) if url else words["retry_later"]
        return OutboundMessage(template, lang, (name, number, total, _one_line(retry, _RETRY_URL_LIMIT)))
    return None
