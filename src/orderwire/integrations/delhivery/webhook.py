"""Delhivery's scan push webhook: one scan per delivery, authenticated by a token we configure.

Sources: delhivery-express-api-doc.readme.io/reference/tracking-via-push-api-webhook-1 (the client gives
Delhivery the endpoint and any authorization header to send; sample body {"Shipment": {"Status":
{"Status", "StatusDateTime" (India time, no offset), "StatusType", "StatusLocation", "Instructions"},
"PickUpDate", "NSLCode", "Sortcode", "ReferenceNo" (the client's order id), "AWB"}}; "consume all the
scans"; expected answer 200) and statuses.py. Delhivery documents no signature: the token is sent as
`Authorization: Bearer <token>` (or `Token <token>`, or bare). No event id: the dedupe key is the
body's hash. `ExpectedDeliveryDate` is read when present (a field of the tracking API's shipment).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from orderwire.integrations.base import (
    IST,
    Delivery,
    Parcel,
    PayloadError,
    Scanned,
    body_key,
    day,
    header,
    json_object,
    mapping,
    moment,
    scan_events,
    text,
)
from orderwire.integrations.delhivery.statuses import canonical, is_return
from orderwire.integrations.signatures import equal


class DelhiveryWebhook:
    """The Delhivery scan push adapter."""

    name = "delhivery"

    def verify(self, secret: str, headers: Mapping[str, str], raw: bytes, now: datetime) -> bool:
        """The Authorization header carries the configured token (constant time)."""
        presented = header(headers, "authorization").strip()
        scheme, _, token = presented.partition(" ")
        if token and scheme.lower() in ("bearer", "token"):
            presented = token.strip()
        return bool(secret and presented) and equal(presented, secret)

    def parse(self, headers: Mapping[str, str], raw: bytes) -> Delivery:
        """The scan as one event for its AWB (falling back to the order's reference number)."""
        shipment = mapping(json_object(raw), "Shipment")
        awb = text(shipment, "AWB")
        scan = mapping(shipment, "Status")
        if not awb or not text(scan, "Status") or not text(scan, "StatusDateTime"):
            raise PayloadError("Shipment.AWB, Shipment.Status.Status and StatusDateTime are required")
        kind, words, code = text(scan, "StatusType"), text(scan, "Status"), text(shipment, "NSLCode")
        reference = text(shipment, "ReferenceNo")
        parcel = Parcel(
            awb=awb,
            courier="Delhivery",
            edd=day(text(shipment, "ExpectedDeliveryDate")),
            is_return=is_return(kind, words),
            fallback=f"order:{reference}" if reference else "",
        )
        read = Scanned(
            at=moment(text(scan, "StatusDateTime"), IST),
            status=canonical(kind, words, code),
            raw_status=f"{kind}/{words}" + (f" ({code})" if code else ""),
            location=text(scan, "StatusLocation"),
            description=text(scan, "Instructions"),
        )
        return Delivery(body_key(raw), "return" if parcel.is_return else "scan", scan_events(parcel, [read]))


ADAPTER = DelhiveryWebhook()
