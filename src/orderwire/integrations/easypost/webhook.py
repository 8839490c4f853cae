"""EasyPost webhooks: an Event whose `result` is a Tracker, signed with the webhook secret.

Sources: easypost-python `easypost/util.py` validate_webhook (header `X-Hmac-Signature:
hmac-sha256-hex=<hex>`: HMAC-SHA256 of the raw body keyed with the UTF-8 of the NFKD-normalised
secret), EasyPost's official client fixtures (github.com/EasyPost/examples, official/fixtures/
event-body.json, used as-is in our fixtures), docs.easypost.com/docs/events (Event `id` to dedupe on,
`description` such as "tracker.updated") and docs.easypost.com/docs/trackers (Tracker `tracking_code`,
`status`, `carrier`, `est_delivery_date`, `carrier_detail.est_delivery_date_local`, `public_url`,
`is_return`, `tracking_details[]` with `datetime`, `status`, `message`, `tracking_location`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from orderwire.integrations.base import (
    Delivery,
    Parcel,
    PayloadError,
    Routed,
    Scanned,
    day,
    header_matches,
    items,
    json_object,
    mapping,
    moment,
    scan_events,
    text,
)
from orderwire.integrations.easypost.statuses import canonical
from orderwire.integrations.signatures import hmac_sha256_hex

SIGNATURE_HEADER = "x-hmac-signature"
TRACKER_EVENTS = ("tracker.created", "tracker.updated")


def signature_for(secret: str, raw: bytes) -> str:
    """The header value EasyPost would send for this body."""
    key = unicodedata.normalize("NFKD", secret).encode()
    return "hmac-sha256-hex=" + hmac_sha256_hex(key, raw)


class EasyPostWebhook:
    """The EasyPost tracker webhook adapter."""

    name = "easypost"

    def verify(self, secret: str, headers: Mapping[str, str], raw: bytes, now: datetime) -> bool:
        """`X-Hmac-Signature` matches the raw body (constant time)."""
        return bool(secret) and header_matches(headers, SIGNATURE_HEADER, signature_for(secret, raw))

    def parse(self, headers: Mapping[str, str], raw: bytes) -> Delivery:
        """A tracker's details, newest first; events about other objects are noted only."""
        body = json_object(raw)
        event_id, description = text(body, "id"), text(body, "description")
        if not event_id or not description:
            raise PayloadError("an EasyPost Event needs id and description")
        if description not in TRACKER_EVENTS:
            return Delivery(f"event:{event_id}", description, (), f"{description}: not used")
        tracker = mapping(body, "result")
        awb = text(tracker, "tracking_code")
        if not awb:
            raise PayloadError("result.tracking_code missing")
        return Delivery(f"event:{event_id}", description, _events(awb, tracker))


def _events(awb: str, tracker: Mapping[str, Any]) -> tuple[Routed, ...]:
    details = [_detail(d) for d in items(tracker, "tracking_details")]
    current = text(tracker, "status")
    if current not in {d.raw_status for d in details}:  # the current status, when no detail says it
        at = moment(text(tracker, "updated_at") or text(tracker, "created_at"), UTC)
        details.append(Scanned(at, canonical(current), current))
    local_edd = text(mapping(tracker, "carrier_detail"), "est_delivery_date_local")
    parcel = Parcel(
        awb=awb,
        courier=text(tracker, "carrier"),
        tracking_url=text(tracker, "public_url"),
        edd=day(local_edd or text(tracker, "est_delivery_date")),
        is_return=tracker.get("is_return") is True,
    )
    return scan_events(parcel, details)


def _detail(d: Mapping[str, Any]) -> Scanned:
    where = mapping(d, "tracking_location")
    place = ", ".join(p for p in (text(where, "city"), text(where, "state"), text(where, "country")) if p)
    status = text(d, "status")
    return Scanned(moment(text(d, "datetime"), UTC), canonical(status), status, place, text(d, "message"))


ADAPTER = EasyPostWebhook()
