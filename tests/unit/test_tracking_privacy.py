"""The public tracking page never repeats a courier text that names the customer or shows their number."""

from __future__ import annotations

from orderwire.web.tracking import public_text
from tests.unit.factories import order


def test_courier_text_naming_the_customer_is_dropped() -> None:
    o = order()  # Asha Rao, +919812345678
    assert public_text("Delivered to ASHA RAO", o) == ""
    assert public_text("Customer 98123-45678 not reachable", o) == ""
    assert public_text("Arrived at the sorting centre", o) == "Arrived at the sorting centre"
    assert public_text("Received by security guard", o) == "Received by security guard"
