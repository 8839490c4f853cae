"""Shiprocket's tracking webhook: a shared token, then one delivery per new scan with the whole history.

Sources: apidocs.shiprocket.in ("Webhooks" in the collection description: POST JSON to the URL set in
Settings > API > Webhooks; optional security token sent as `x-api-key`; only HTTP 200 counts as
received; the URL may not contain "shiprocket", "kartrocket", "sr" or "kr"), the sample payload there
(awb, courier_name, current_status, current_status_id, shipment_status, shipment_status_id,
current_timestamp "23 05 2023 11:43:52", order_id = the channel's order id, etd, scans[], is_return),
and the shipment status codes (statuses.py). No event id is sent: the dedupe key is the body's hash.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from orderwire.integrations.base import (
    IST,
    Delivery,
    Parcel,
    PayloadError,
    body_key,
    day,
    header_matches,
    items,
    json_object,
    moment,
    text,
)
from orderwire.integrations.shiprocket.scans import routed_events

API_KEY_HEADER = "x-api-key"
CURRENT_TIME = "%d %m %Y %H:%M:%S"


class ShiprocketWebhook:
    """The Shiprocket tracking webhook adapter."""

    name = "shiprocket"

    def verify(self, secret: str, headers: Mapping[str, str], raw: bytes, now: datetime) -> bool:
        """The `x-api-key` header equals the configured token (constant time)."""
        return bool(secret) and header_matches(headers, API_KEY_HEADER, secret)

    def parse(self, headers: Mapping[str, str], raw: bytes) -> Delivery:
        """Every scan, plus the current status when no scan carries it."""
        body = json_object(raw)
        awb = text(body, "awb")
        if not awb:
            raise PayloadError("awb missing: not a Shiprocket tracking update")
        order_id = text(body, "order_id")
        parcel = Parcel(
            awb=awb,
            courier=text(body, "courier_name"),
            edd=day(text(body, "etd")),
            is_return=text(body, "is_return").lower() in ("1", "true"),
            fallback=f"order:{order_id}" if order_id else "",
        )
        current = None
        if text(body, "shipment_status_id") and text(body, "current_timestamp"):
            at = moment(text(body, "current_timestamp"), IST, (CURRENT_TIME,))
            current = (at, text(body, "shipment_status_id"), text(body, "shipment_status"))
        scans = items(body, "scans")
        if current is None and not scans:
            raise PayloadError("neither shipment_status_id with current_timestamp nor scans")
        topic = "return" if parcel.is_return else "tracking"
        return Delivery(body_key(raw), topic, routed_events(parcel, scans, current))


ADAPTER = ShiprocketWebhook()
