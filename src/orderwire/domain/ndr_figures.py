"""Failed-delivery figures per courier and per PIN code, from stored orders (pure: the caller gives `today`).

NDR rate: parcels with at least one failed attempt / parcels. Re-attempt success: parcels delivered after the
customer asked for a re-attempt / re-attempts asked. Suspected fake attempts: a failure scanned on a day with
no out-for-delivery scan, or a day the customer chose for a re-attempt passing with no attempt scanned.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from orderwire.domain.model import Order, Shipment, ShipmentStatus

_ATTEMPTS = frozenset(
    {ShipmentStatus.OUT_FOR_DELIVERY, ShipmentStatus.DELIVERY_FAILED, ShipmentStatus.DELIVERED}
)


@dataclass(frozen=True)
class Figures:
    """Counts for one courier or PIN code; the rates are derived."""

    parcels: int = 0
    failed: int = 0
    reattempts: int = 0
    reattempts_delivered: int = 0
    suspected_fake: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.parcels + other.parcels,
            self.failed + other.failed,
            self.reattempts + other.reattempts,
            self.reattempts_delivered + other.reattempts_delivered,
            self.suspected_fake + other.suspected_fake,
        )

    @property
    def ndr_rate(self) -> float:
        """Share of parcels with at least one failed attempt."""
        return self.failed / self.parcels if self.parcels else 0.0

    @property
    def reattempt_success(self) -> float:
        """Share of requested re-attempts that ended delivered."""
        return self.reattempts_delivered / self.reattempts if self.reattempts else 0.0


def parcel_figures(shipment: Shipment, timezone: str, today: date) -> Figures:
    """The figures one parcel contributes."""
    zone = ZoneInfo(timezone)
    scan_days = {
        s.at.astimezone(zone).date() for s in shipment.scans if s.status is ShipmentStatus.OUT_FOR_DELIVERY
    }
    failed_days = {moment.astimezone(zone).date() for moment in shipment.failed_attempts}
    fake = len(failed_days - scan_days)
    reattempt = shipment.ndr_choice == "reattempt"
    day = shipment.ndr_date
    if reattempt and day is not None and day < today:
        tried = any(s.status in _ATTEMPTS and s.at.astimezone(zone).date() >= day for s in shipment.scans)
        fake += 0 if tried else 1
    return Figures(
        parcels=1,
        failed=1 if failed_days else 0,
        reattempts=1 if reattempt else 0,
        reattempts_delivered=1 if reattempt and shipment.status is ShipmentStatus.DELIVERED else 0,
        suspected_fake=fake,
    )


def ndr_figures(orders: Iterable[Order], timezone: str, today: date) -> dict[str, dict[str, Figures]]:
    """Figures by courier name and by the delivery PIN code, over parcels sent to customers."""
    by: dict[str, dict[str, Figures]] = {"courier": {}, "pincode": {}}
    for order in orders:
        for shipment in order.shipments:
            if not shipment.forward:
                continue
            figures = parcel_figures(shipment, timezone, today)
            for axis, key in (("courier", shipment.courier or "unknown"), ("pincode", order.address.pincode)):
                by[axis][key] = by[axis].get(key, Figures()) + figures
    return by
