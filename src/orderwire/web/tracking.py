"""The public tracking page /t/{token}: no login, no JavaScript, personal data masked."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from orderwire.app import views
from orderwire.domain.messages import format_day, format_money, language_for
from orderwire.domain.model import STAGE_RANK, Order, Scan, Stage
from orderwire.web.deps import RuntimeDep

router = APIRouter(tags=["tracking"])
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

STEPS = (
    (Stage.PLACED, {"en": "Ordered", "hi": "ऑर्डर किया"}),
    (Stage.CONFIRMED, {"en": "Confirmed", "hi": "कन्फ़र्म"}),
    (Stage.DISPATCHED, {"en": "Shipped", "hi": "रवाना"}),
    (Stage.OUT_FOR_DELIVERY, {"en": "Out for delivery", "hi": "डिलीवरी के लिए निकला"}),
    (Stage.DELIVERED, {"en": "Delivered", "hi": "डिलीवर हो गया"}),
)
HEADLINE = {
    Stage.PLACED: {"en": "Waiting for payment", "hi": "भुगतान का इंतज़ार"},
    Stage.CONFIRMED: {"en": "Order confirmed", "hi": "ऑर्डर कन्फ़र्म"},
    Stage.PROCESSING: {"en": "Being packed", "hi": "पैक हो रहा है"},
    Stage.DISPATCHED: {"en": "On its way", "hi": "रास्ते में"},
    Stage.OUT_FOR_DELIVERY: {"en": "Out for delivery today", "hi": "आज डिलीवरी"},
    Stage.DELIVERY_FAILED: {"en": "Delivery attempt failed", "hi": "डिलीवरी नहीं हो पाई"},
    Stage.RTO: {"en": "Returning to the shop", "hi": "दुकान को वापस जा रहा है"},
    Stage.LOST: {"en": "Delayed: we are looking into it", "hi": "देरी: हम पता कर रहे हैं"},
    Stage.DELIVERED: {"en": "Delivered", "hi": "डिलीवर हो गया"},
    Stage.FOLLOWED_UP: {"en": "Delivered", "hi": "डिलीवर हो गया"},
    Stage.CANCELLED: {"en": "Cancelled", "hi": "रद्द"},
}


LABELS = {
    "en": {
        "hi": "Hi",
        "order": "Order",
        "expected": "Expected by",
        "shipment": "Shipment",
        "courier": "Courier",
        "assigned_soon": "Assigned soon",
        "awb": "AWB",
        "last_seen": "Last seen",
        "attempts": "Failed attempts",
        "courier_page": "Courier's own tracking page",
        "journey": "Journey",
        "items": "Items",
        "total": "Total",
        "to": "Delivering to",
        "footer": "Questions? Reply to our WhatsApp message.",
    },
    "hi": {
        "hi": "नमस्ते",
        "order": "ऑर्डर",
        "expected": "अनुमानित डिलीवरी",
        "shipment": "शिपमेंट",
        "courier": "कूरियर",
        "assigned_soon": "जल्द तय होगा",
        "awb": "AWB",
        "last_seen": "आख़िरी जगह",
        "attempts": "असफल प्रयास",
        "courier_page": "कूरियर का ट्रैकिंग पेज",
        "journey": "सफ़र",
        "items": "सामान",
        "total": "कुल",
        "to": "डिलीवरी",
        "footer": "कोई सवाल? हमारे WhatsApp संदेश का जवाब दें।",
    },
}
SCAN_LABELS = {
    "hi": {
        "dispatched": "रवाना",
        "in_transit": "रास्ते में",
        "out_for_delivery": "डिलीवरी के लिए निकला",
        "delivery_failed": "डिलीवरी नहीं हो पाई",
        "rto_initiated": "वापसी शुरू",
        "lost": "खो गया",
        "delivered": "डिलीवर हो गया",
        "rto_delivered": "दुकान को वापस पहुँचा",
        "pickup_pending": "पिकअप का इंतज़ार",
        "damaged": "क्षतिग्रस्त",
        "cancelled": "रद्द",
    }
}


def scan_label(scan: Scan, lang: str) -> str:
    """The scan's status in the customer's language; the courier's own words when we have no meaning."""
    if scan.status is None:
        return scan.raw_status or "update"
    return SCAN_LABELS.get(lang, {}).get(scan.status.value, scan.status.value.replace("_", " "))


def public_text(text: str, order: Order) -> str:
    """Courier free text for the public page, or '' when it names the customer or shows their number.

    Scans often say "Delivered to Asha Rao" or carry a phone number; the page must not reveal either.
    """
    lowered = text.lower()
    names = [part for part in order.customer.name.lower().split() if len(part) >= 3]
    digits = "".join(ch for ch in order.customer.phone if ch.isdigit())[-6:]
    if any(name in lowered for name in names) or (digits and digits in "".join(filter(str.isdigit, text))):
        return ""
    return text


def mask_name(name: str) -> str:
    """First name only: 'Asha Rao' -> 'Asha'."""
    return name.split(" ")[0] if name else ""


def page_context(order: Order, timezone: str) -> dict[str, Any]:
    """Everything the page shows, already masked and formatted."""
    lang = language_for(order.customer.language)
    rank = STAGE_RANK[order.stage]
    steps = [
        {
            "label": labels[lang],
            "done": rank >= STAGE_RANK[stage] and order.stage != Stage.CANCELLED,
        }
        for stage, labels in STEPS
    ]
    scans = sorted(
        ((s, scan) for s in order.shipments for scan in s.scans),
        key=lambda p: p[1].at,
        reverse=True,
    )
    zone = ZoneInfo(timezone)
    return {
        "lang": lang,
        "t": LABELS[lang],
        "number": order.number,
        "name": mask_name(order.customer.name),
        "headline": HEADLINE[order.stage][lang],
        "stage": order.stage.value,
        "steps": steps,
        "edd": format_day(order.expected_delivery, lang),
        "delivered": order.stage in (Stage.DELIVERED, Stage.FOLLOWED_UP),
        "items": [(i.quantity, i.name) for i in order.items],
        "total": format_money(order.total, lang),
        "destination": f"{order.address.city} {order.address.pincode[:3]}***",
        "shipments": [
            {
                "courier": s.courier,
                "awb": s.awb,
                "edd": format_day(s.edd, lang) if s.edd else "",
                "location": public_text(s.last_location, order),
                # Only web links: a courier-supplied "javascript:" URL must never become clickable.
                "tracking_url": s.tracking_url if s.tracking_url.startswith(("https://", "http://")) else "",
                "attempts": s.attempt,
            }
            for s in order.shipments
        ],
        "scans": [
            {
                "at": scan.at.astimezone(zone).strftime("%d %b, %H:%M"),
                "status": scan_label(scan, lang),
                "location": public_text(scan.location, order),
                "description": public_text(scan.description, order),
            }
            for _, scan in scans[:30]
        ],
    }


@router.get("/t/{token}", response_class=HTMLResponse, include_in_schema=False)
def tracking_page(token: str, request: Request, rt: RuntimeDep) -> HTMLResponse:
    """The order's journey for whoever holds the link."""
    found = views.order_by_token(rt, token) if len(token) <= 64 else None
    if found is None:
        return templates.TemplateResponse(
            request, "tracking_missing.html", {}, status_code=status.HTTP_404_NOT_FOUND
        )
    order, _events = found
    response = templates.TemplateResponse(request, "tracking.html", page_context(order, rt.settings.timezone))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
