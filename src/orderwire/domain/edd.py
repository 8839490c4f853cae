"""Expected delivery dates from shop rules: India PIN-code zones, processing and transit days, holidays.

Zones follow the way Indian couriers and aggregators price and plan parcels (within city, within state,
metro to metro, rest of India, north-east and remote). The PIN code structure is India Post's: the first
digit is the region, the first two digits the postal circle, the first three the sorting district
(indiapost.gov.in, "PIN code"; the two-digit circle table is also on Wikipedia, "Postal Index Number").
This is an approximation: postal circles are not exactly states (Uttar Pradesh with Uttarakhand, Bihar
with Jharkhand share circles), and a sorting district is used for "same city".
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from orderwire.domain.policy import EddRules, ShopPolicy, add_delivery_days, default_edd

PINCODE = re.compile(r"^[1-9][0-9]{5}$")


class Zone(StrEnum):
    """Delivery zones from the shop's PIN code to the customer's."""

    SAME_CITY = "same_city"
    SAME_STATE = "same_state"
    METRO = "metro"
    REST_OF_INDIA = "rest_of_india"
    NORTH_EAST = "north_east"  # north-east and remote: J&K, Ladakh, islands, Sikkim


# Postal circle by PIN prefix; the longest matching prefix wins.
_CIRCLES: dict[str, str] = {
    "11": "DL",
    **dict.fromkeys(("12", "13"), "HR"),
    **dict.fromkeys(("14", "15", "16"), "PB"),
    "160": "CH",
    "17": "HP",
    **dict.fromkeys(("18", "19"), "JK"),
    "194": "LA",
    **dict.fromkeys(("20", "21", "22", "23", "24", "25", "26", "27", "28"), "UP"),
    **dict.fromkeys(("30", "31", "32", "33", "34"), "RJ"),
    **dict.fromkeys(("36", "37", "38", "39"), "GJ"),
    **dict.fromkeys(("40", "41", "42", "43", "44"), "MH"),
    "403": "GA",
    **dict.fromkeys(("45", "46", "47", "48"), "MP"),
    "49": "CG",
    "50": "TG",
    **dict.fromkeys(("51", "52", "53"), "AP"),
    **dict.fromkeys(("56", "57", "58", "59"), "KA"),
    **dict.fromkeys(("60", "61", "62", "63", "64"), "TN"),
    "605": "PY",
    **dict.fromkeys(("67", "68", "69"), "KL"),
    "68255": "LD",
    **dict.fromkeys(("70", "71", "72", "73", "74"), "WB"),
    "737": "SK",
    "744": "AN",
    **dict.fromkeys(("75", "76", "77"), "OR"),
    "78": "AS",
    **dict.fromkeys(("790", "791", "792"), "AR"),
    **dict.fromkeys(("793", "794"), "ML"),
    "795": "MN",
    "796": "MZ",
    **dict.fromkeys(("797", "798"), "NL"),
    "799": "TR",
    **dict.fromkeys(("80", "81", "82", "83", "84", "85"), "BR"),
    **dict.fromkeys(("90", "91", "92", "93", "94", "95", "96", "97", "98", "99"), "APS"),
}
_NORTH_EAST_AND_REMOTE = frozenset({"AS", "AR", "ML", "MN", "MZ", "NL", "TR", "SK", "JK", "LA", "AN", "LD"})
# Sorting districts of the metros: Delhi, Mumbai, Kolkata, Chennai, Bengaluru, Hyderabad, Pune, Ahmedabad.
METRO_PREFIXES = frozenset({"110", "400", "700", "600", "560", "500", "411", "380"})


def circle(pincode: str) -> str | None:
    """The postal circle ('KA', 'MH', ...) of a PIN code, or None when it is not a valid PIN code."""
    pin = pincode.replace(" ", "")
    if not PINCODE.match(pin):
        return None
    for length in (5, 3, 2):
        found = _CIRCLES.get(pin[:length])
        if found is not None:
            return found
    return None


def zone(origin: str, destination: str) -> Zone | None:
    """The delivery zone between two PIN codes, or None if either is not a valid PIN code."""
    here, there = circle(origin), circle(destination)
    if here is None or there is None:
        return None
    origin, destination = origin.replace(" ", ""), destination.replace(" ", "")
    if origin[:3] == destination[:3]:
        return Zone.SAME_CITY
    if here == there:
        return Zone.SAME_STATE
    if origin[:3] in METRO_PREFIXES and destination[:3] in METRO_PREFIXES:
        return Zone.METRO
    if there in _NORTH_EAST_AND_REMOTE:
        return Zone.NORTH_EAST
    return Zone.REST_OF_INDIA


def transit_days(rules: EddRules, where: Zone) -> int:
    """The shop's transit days for a zone."""
    return {
        Zone.SAME_CITY: rules.same_city_days,
        Zone.SAME_STATE: rules.same_state_days,
        Zone.METRO: rules.metro_days,
        Zone.REST_OF_INDIA: rules.rest_of_india_days,
        Zone.NORTH_EAST: rules.north_east_days,
    }[where]


def estimate(placed_on: date, destination: str, rules: EddRules) -> date | None:
    """Placed on `placed_on` (shop's local date): the promised day, or None if the zone is unknown."""
    where = zone(rules.origin_pincode, destination)
    if where is None:
        return None
    return add_delivery_days(placed_on, rules.processing_days + transit_days(rules, where), rules.holidays)


def promise(placed_at: datetime, destination: str, policy: ShopPolicy) -> date:
    """The EDD an order is confirmed with when the shop gave none: by zone, else the default days."""
    local = placed_at.astimezone(ZoneInfo(policy.timezone)).date()
    return estimate(local, destination, policy.edd) or default_edd(placed_at, policy)
