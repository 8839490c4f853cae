"""Courier webhook bodies built from the vendors' documented examples (integrations/*/fixtures)."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "src/orderwire/integrations"


def fixture(vendor: str, name: str) -> dict[str, Any]:
    """A vendor's documented example payload."""
    data: dict[str, Any] = json.loads((FIXTURES / vendor / "fixtures" / name).read_text())
    return data


def fixture_bytes(vendor: str, name: str) -> bytes:
    """A fixture's exact bytes (for signatures over the documented body)."""
    return (FIXTURES / vendor / "fixtures" / name).read_bytes()


def shiprocket_scan(
    code: int | str, label: str, at: datetime, location: str = "", activity: str = ""
) -> dict[str, str]:
    """One scan as Shiprocket writes it (India time, no offset)."""
    return {
        "date": at.strftime("%Y-%m-%d %H:%M:%S"),
        "status": "X",
        "activity": activity or label.title(),
        "location": location,
        "sr-status": str(code),
        "sr-status-label": label,
    }


def shiprocket_webhook(
    awb: str,
    scans: list[dict[str, str]],
    order_id: str = "",
    etd: str = "",
    is_return: int = 0,
    courier: str = "Delhivery Surface",
) -> dict[str, Any]:
    """The documented webhook with our parcel, history and current status (the newest scan's)."""
    body = copy.deepcopy(fixture("shiprocket", "tracking_webhook.json"))
    last = max(scans, key=lambda s: s["date"])
    at = datetime.strptime(last["date"], "%Y-%m-%d %H:%M:%S")
    body.update(
        awb=awb,
        order_id=order_id,
        courier_name=courier,
        scans=scans,
        shipment_status=last["sr-status-label"],
        shipment_status_id=int(last["sr-status"]) if last["sr-status"].isdigit() else last["sr-status"],
        current_timestamp=at.strftime("%d %m %Y %H:%M:%S"),
        etd=etd,
        is_return=is_return,
    )
    return body
