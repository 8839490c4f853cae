"""Shiprocket scans (webhook `scans[]`, API `shipment_track_activities[]`) into canonical events.

Both carry `date` ("2023-05-19 11:59:16", India time), `status` (the courier's code), `activity`,
`location`, `sr-status` and `sr-status-label`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from orderwire.integrations.base import IST, Parcel, Routed, Scanned, moment, scan_events, text
from orderwire.integrations.shiprocket.statuses import canonical

SCAN_TIME = "%Y-%m-%d %H:%M:%S"


def coded(at: datetime, code: str, label: str, location: str = "", activity: str = "") -> Scanned:
    """A scan by its Shiprocket code, keeping the code and label as the courier's own words."""
    words = label or "status"
    raw = f"{words} ({code})" if code not in ("", words) else words
    return Scanned(at, canonical(code), raw, location, activity)


def read_scan(scan: Mapping[str, Any]) -> Scanned:
    """A scan object as Shiprocket sends it."""
    return coded(
        moment(text(scan, "date"), IST, (SCAN_TIME,)),
        text(scan, "sr-status"),
        text(scan, "sr-status-label"),
        text(scan, "location"),
        text(scan, "activity"),
    )


def routed_events(
    parcel: Parcel, scans: list[Mapping[str, Any]], current: tuple[datetime, str, str] | None = None
) -> tuple[Routed, ...]:
    """The scans, plus the parcel's `current` (time, code, label) when no scan carries that code."""
    read = [read_scan(scan) for scan in scans]
    if current is not None and current[1] not in {text(scan, "sr-status") for scan in scans}:
        read.append(coded(*current))
    return scan_events(parcel, read)
