"""Shop rules: quiet hours, the optional processing update, follow-up timing, a default EDD."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from orderwire.domain.model import Order


@dataclass(frozen=True)
class EddRules:
    """How the shop promises a delivery date when neither it nor the courier gave one.

    Days are working days (no Sundays, no `holidays`): `processing_days` to hand the parcel over, then
    the transit days of the zone from `origin_pincode` to the customer's PIN code (see domain/edd.py).
    """

    origin_pincode: str = ""
    processing_days: int = 1
    same_city_days: int = 1
    same_state_days: int = 2
    metro_days: int = 3
    rest_of_india_days: int = 5
    north_east_days: int = 7
    holidays: frozenset[date] = frozenset()


@dataclass(frozen=True)
class ShopPolicy:
    """What a shop configures; defaults suit an Indian shop."""

    timezone: str = "Asia/Kolkata"
    quiet_start: int = 21
    quiet_end: int = 9
    follow_up_days: int = 4
    processing_update_threshold_minor: int = 500_000
    default_delivery_days: int = 5
    edd: EddRules = EddRules()
    ndr_reminder_minutes: float = 120
    ndr_escalate_minutes: float = 360
    ndr_escalate_again_minutes: float = 120
    # commerce: COD orders are confirmed by the customer (a reminder, then staff, when they do not answer);
    # dispatch may be held in the shop until they do. Back-ordered items push the EDD.
    cod_confirmation: bool = True
    cod_reminder_minutes: float = 240
    cod_escalate_minutes: float = 480
    cod_hold_dispatch: bool = False
    backorder_extra_days: int = 7
    # Returns: days after delivery a return may be asked for, days after pickup the refund is promised
    # within, and how many photos a damaged or wrong item may be shown with.
    return_window_days: int = 7
    refund_days: int = 7
    return_photos_max: int = 3
    # Replenishment offers: days after delivery to offer each configured SKU again (other SKUs never
    # are), and the shop page the offer links to ("{sku}" in it becomes the SKU; none when empty).
    replenish_days: Mapping[str, int] = field(default_factory=dict)
    reorder_url: str = ""

    def __post_init__(self) -> None:
        if not 3 <= self.follow_up_days <= 7:
            raise ValueError("follow_up_days must be between 3 and 7")


def in_quiet_hours(moment: datetime, policy: ShopPolicy) -> bool:
    """True when `moment` falls within the shop's quiet hours (local time)."""
    hour = moment.astimezone(ZoneInfo(policy.timezone)).hour
    if policy.quiet_start == policy.quiet_end:
        return False
    if policy.quiet_start > policy.quiet_end:  # spans midnight, e.g. 21:00-09:00
        return hour >= policy.quiet_start or hour < policy.quiet_end
    return policy.quiet_start <= hour < policy.quiet_end


def outside_quiet_hours(moment: datetime, policy: ShopPolicy) -> datetime:
    """`moment` itself, or the end of the quiet hours it falls in (for non-urgent messages)."""
    if not in_quiet_hours(moment, policy):
        return moment
    zone = ZoneInfo(policy.timezone)
    local = moment.astimezone(zone)
    end = datetime.combine(local.date(), time(policy.quiet_end), tzinfo=zone)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), time(policy.quiet_end), zone)
    return end.astimezone(moment.tzinfo)


def wants_processing_update(order: Order, policy: ShopPolicy) -> bool:
    """First-time customers and orders above the threshold hear that packing has started."""
    return order.customer.first_order or order.total.minor > policy.processing_update_threshold_minor


def follow_up_due(delivered_at: datetime, policy: ShopPolicy) -> datetime:
    """When the follow-up goes out: N days after delivery, outside quiet hours."""
    return outside_quiet_hours(delivered_at + timedelta(days=policy.follow_up_days), policy)


def add_delivery_days(start: date, days: int, holidays: frozenset[date] = frozenset()) -> date:
    """`start` plus `days` working days, skipping Sundays and holidays (couriers rest then)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() != 6 and current not in holidays:
            remaining -= 1
    return current


def default_edd(placed_at: datetime, policy: ShopPolicy) -> date:
    """The promise made when neither the shop nor the courier gave an EDD."""
    local = placed_at.astimezone(ZoneInfo(policy.timezone)).date()
    return add_delivery_days(local, policy.default_delivery_days, policy.edd.holidays)


# Replenishment offers: the per-SKU periods, written `SKU-1=30,SKU-2=45` in ORDERWIRE_REPLENISH_DAYS.
REPLENISH_MAX_DAYS = 730


def parse_replenish_days(text: str) -> dict[str, int]:
    """`SKU-1=30,SKU-2=45` as {SKU: days}; ValueError for a malformed, repeated or out-of-range pair."""
    periods: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        sku, equals, days = (x.strip() for x in part.partition("="))
        if not (sku and equals and days.isascii() and days.isdigit()) or len(sku) > 100:
            raise ValueError(f"expected SKU=days pairs such as SKU-1=30,SKU-2=45, not {part[:60]!r}")
        if not 1 <= int(days) <= REPLENISH_MAX_DAYS:
            raise ValueError(f"{sku}: days must be between 1 and {REPLENISH_MAX_DAYS}")
        if sku in periods:
            raise ValueError(f"{sku} is listed twice")
        periods[sku] = int(days)
    return periods
