"""AfterShip Tracking webhooks: HMAC-signed, one delivery per event with the whole tracking in `msg`.

Sources: aftership.com/docs/tracking/webhook/webhook-signature (`aftership-hmac-sha256`: base64
HMAC-SHA256 of the raw body with the webhook secret), .../webhook/webhook-specifications (body `ts`,
`event` = tracking_update | edd_revise | tracking_pending_time, `event_id` UUID to dedupe on,
`is_tracking_first_tag`, `msg` = the Tracking object), the Tracking model (`tracking_number`, `slug`,
`tag`, `subtag`, `checkpoints[]` with `checkpoint_time`, `location`, `city`, `state`, `message`, `tag`,
`subtag`; `order_id`, `order_number`, `return_to_sender`, `courier_tracking_link`, and the EDD fields
`courier_estimated_delivery_date`, `latest_estimated_delivery`, `expected_delivery`,
`aftership_estimated_delivery_date`), and statuses.py. Checkpoint times may lack an offset (the
checkpoint's local time): read as India time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from orderwire.integrations.aftership.statuses import canonical
from orderwire.integrations.base import (
    IST,
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
from orderwire.integrations.signatures import hmac_sha256_base64

SIGNATURE_HEADER = "aftership-hmac-sha256"
TRACKING_EVENTS = ("tracking_update", "edd_revise")


def signature_for(secret: str, raw: bytes) -> str:
    """The header value AfterShip would send for this body."""
    return hmac_sha256_base64(secret.encode(), raw)


class AfterShipWebhook:
    """The AfterShip Tracking webhook adapter."""

    name = "aftership"

    def verify(self, secret: str, headers: Mapping[str, str], raw: bytes, now: datetime) -> bool:
        """`aftership-hmac-sha256` matches the raw body (constant time)."""
        return bool(secret) and header_matches(headers, SIGNATURE_HEADER, signature_for(secret, raw))

    def parse(self, headers: Mapping[str, str], raw: bytes) -> Delivery:
        """Checkpoints (newest first) of a tracking update or EDD revision; other events are noted."""
        body = json_object(raw)
        event, event_id = text(body, "event"), text(body, "event_id")
        if not event or not event_id:
            raise PayloadError("event and event_id are required")
        if event not in TRACKING_EVENTS:
            return Delivery(f"event:{event_id}", event, (), f"{event}: not used")
        msg = mapping(body, "msg")
        awb = text(msg, "tracking_number")
        if not awb:
            raise PayloadError("msg.tracking_number missing")
        return Delivery(f"event:{event_id}", event, _events(awb, msg, text(body, "ts")))


def _events(awb: str, msg: Mapping[str, Any], ts: str) -> tuple[Routed, ...]:
    returning = msg.get("return_to_sender") is True
    checkpoints = items(msg, "checkpoints")
    if not checkpoints and ts.isdigit():  # no checkpoint yet (Pending, InfoReceived): the tag alone
        try:
            sent = datetime.fromtimestamp(int(ts), IST).isoformat()
        except (OverflowError, OSError) as exc:  # more digits than a datetime holds
            raise PayloadError(f"ts {ts[:20]} out of range") from exc
        checkpoints = [{"checkpoint_time": sent, "tag": text(msg, "tag"), "subtag": text(msg, "subtag")}]
    fallback = f"order:{text(msg, 'order_id')}" if text(msg, "order_id") else ""
    if not fallback and text(msg, "order_number"):
        fallback = f"number:{text(msg, 'order_number')}"
    parcel = Parcel(
        awb=awb,
        courier=text(msg, "slug"),
        tracking_url=text(msg, "courier_tracking_link"),
        edd=_edd(msg),
        fallback=fallback,
    )
    return scan_events(parcel, [_checkpoint(c, returning) for c in checkpoints])


def _checkpoint(c: Mapping[str, Any], returning: bool) -> Scanned:
    tag, subtag = text(c, "tag"), text(c, "subtag")
    place = text(c, "location") or ", ".join(p for p in (text(c, "city"), text(c, "state")) if p)
    at = moment(text(c, "checkpoint_time"), IST)
    return Scanned(at, canonical(tag, subtag, returning), subtag or tag, place, text(c, "message"))


def _edd(msg: Mapping[str, Any]) -> date | None:
    """The courier's own estimate first, then AfterShip's."""
    for value in (
        text(mapping(msg, "courier_estimated_delivery_date"), "estimated_delivery_date"),
        text(mapping(msg, "latest_estimated_delivery"), "datetime"),
        text(msg, "expected_delivery"),
        text(mapping(msg, "aftership_estimated_delivery_date"), "estimated_delivery_date"),
    ):
        if value and (found := day(value)) is not None:
            return found
    return None


ADAPTER = AfterShipWebhook()
