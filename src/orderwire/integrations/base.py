"""What every inbound webhook adapter offers, and the small helpers they share.

An adapter checks a delivery on its raw bytes (`verify`), then reads it into canonical events (`parse`).
Adapters never import each other; they import the domain, this module and integrations/signatures.py.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo

from orderwire.domain.events import Event, ShipmentUpdated
from orderwire.domain.model import ShipmentStatus
from orderwire.integrations.signatures import equal

# Indian couriers and aggregators write local times without an offset.
IST = ZoneInfo("Asia/Kolkata")
# Deliveries repeat a parcel's whole history; beyond this many scans only the newest are read.
MAX_SCANS = 60


class PayloadError(ValueError):
    """The body is not the vendor's shape (answer 400)."""


class Routed(NamedTuple):
    """A canonical event and the order it belongs to: `ref` first ('awb:…'), else `fallback` ('order:…')."""

    ref: str
    event: Event
    fallback: str = ""


@dataclass(frozen=True)
class Delivery:
    """One authentic webhook delivery: its dedupe key, what it was about, and the events it carried.

    A delivery we do not act on (an event type we do not use) has no events and says why in `note`.
    """

    dedupe_key: str
    topic: str
    events: tuple[Routed, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Parcel:
    """What a delivery says about the parcel as a whole."""

    awb: str
    courier: str = ""
    tracking_url: str = ""
    edd: date | None = None
    is_return: bool = False
    fallback: str = ""  # the order's other name ('order:1001'), when the delivery carries one


@dataclass(frozen=True)
class Scanned:
    """One courier scan as a vendor reported it, with its canonical status (None: no meaning here)."""

    at: datetime
    status: ShipmentStatus | None
    raw_status: str
    location: str = ""
    description: str = ""


def scan_events(parcel: Parcel, scans: list[Scanned]) -> tuple[Routed, ...]:
    """Newest first, so a history read at once asks only for the message of where the parcel is now."""
    newest = sorted(scans, key=lambda s: s.at, reverse=True)[:MAX_SCANS]
    return tuple(
        Routed(
            f"awb:{parcel.awb}",
            ShipmentUpdated(
                awb=parcel.awb,
                status=scan.status,
                occurred_at=scan.at,
                courier=parcel.courier,
                tracking_url=parcel.tracking_url,
                edd=parcel.edd if i == 0 else None,  # the delivery's EDD is as of its newest scan
                location=scan.location,
                description=scan.description,
                reason=scan.description if scan.status is ShipmentStatus.DELIVERY_FAILED else "",
                raw_status=scan.raw_status,
                is_return=parcel.is_return,
            ),
            parcel.fallback,
        )
        for i, scan in enumerate(newest)
    )


class WebhookAdapter(Protocol):
    """An inbound webhook vendor."""

    name: str

    def verify(self, secret: str, headers: Mapping[str, str], raw: bytes, now: datetime) -> bool:
        """True when the delivery is authentic (checked on the raw bytes, in constant time)."""
        ...

    def parse(self, headers: Mapping[str, str], raw: bytes) -> Delivery:
        """The delivery's canonical events; raise PayloadError for a body that is not the vendor's shape."""
        ...


def header(headers: Mapping[str, str], name: str) -> str:
    """A header by case-insensitive name, '' when absent."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), "")


def header_matches(headers: Mapping[str, str], name: str, expected: str) -> bool:
    """The header is present and equals `expected`, compared in constant time."""
    presented = header(headers, name)
    return bool(presented) and equal(presented, expected)


def json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or PayloadError."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise PayloadError("body is not JSON") from exc
    if not isinstance(body, dict):
        raise PayloadError("body is not a JSON object")
    return body


def body_key(raw: bytes) -> str:
    """A dedupe key for vendors that send no event id: the same bytes again are the same delivery."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def text(data: Mapping[str, Any], key: str) -> str:
    """A field as a stripped string ('' for missing or null); numbers become their digits."""
    value = data.get(key)
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()


def mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A field that should be an object ({} when missing or null)."""
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{key} must be an object")
    return value


def items(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """A field that should be a list of objects ([] when missing or null)."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise PayloadError(f"{key} must be a list of objects")
    return value


def moment(value: str, naive_zone: tzinfo, formats: tuple[str, ...] = ()) -> datetime:
    """An aware datetime from ISO 8601 or one of `formats`; times without an offset are in `naive_zone`."""
    value = value.strip()
    parsed: datetime | None = None
    for fmt in formats:
        try:
            parsed = datetime.strptime(value, fmt)
            break
        except ValueError:
            continue
    if parsed is None:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise PayloadError(f"unreadable time {value!r}") from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=naive_zone)


def first_moment(data: Mapping[str, Any], *keys: str, naive_zone: tzinfo = UTC) -> datetime:
    """The first of the named timestamps present (`moment`); PayloadError when none is."""
    for key in keys:
        if value := text(data, key):
            return moment(value, naive_zone)
    raise PayloadError(f"{' or '.join(keys)} missing")


def day(value: str) -> date | None:
    """The date a vendor's EDD names ('2023-05-23 15:40:19', '2024-08-05T00:00:00Z'), None if unreadable."""
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None
