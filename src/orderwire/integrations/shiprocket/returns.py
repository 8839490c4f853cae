"""Shiprocket as the ReturnsPort: a return order (reverse pickup) from the customer to the shop's warehouse.

Request and answer shapes: see integrations/shiprocket/api.py ("Create Return Order", "Generate AWB for
Shipment"; unconfirmed against Shiprocket's own pages, which could not be read from here). The RMA is the
return order's `order_id`, so Shiprocket's tracking webhooks for the return carry it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from orderwire.app.ports import ReturnPickup, VendorError
from orderwire.domain.model import Order
from orderwire.integrations.base import PayloadError, day, mapping, text
from orderwire.integrations.shiprocket.api import ShiprocketApi, ShiprocketApiError, ShiprocketRefused


class ReturnRefused(Exception):
    """Shiprocket did not create the return order or gave it no AWB; `retryable` if trying again may help."""

    def __init__(self, message: str, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Warehouse:
    """Where returns go: the shop's warehouse, and the parcel's usual size."""

    name: str
    address: str
    city: str
    state: str
    pincode: str
    phone: str
    weight_kg: float
    length_cm: float
    breadth_cm: float
    height_cm: float


@dataclass(frozen=True)
class Booked:
    """A booked reverse pickup."""

    awb: str
    courier: str
    pickup_date: date | None
    shipment_id: str


def _digits(phone: str) -> str:
    """Shiprocket wants a 10-digit Indian number (no +91)."""
    only = "".join(c for c in phone if c.isdigit())
    return only[-10:]


def _major(minor: int) -> str:
    return str(Decimal(minor).scaleb(-2))


def return_order(order: Order, rma: str, reason: str, warehouse: Warehouse) -> dict[str, Any]:
    """The create-return body for this order: picked up from the customer, delivered to the warehouse."""
    first, _, last = (order.customer.name or "Customer").partition(" ")
    a = order.address
    return {
        "order_id": rma,
        "order_date": order.placed_at.date().isoformat(),
        "pickup_customer_name": first,
        "pickup_last_name": last,
        "pickup_address": a.line1,
        "pickup_address_2": ", ".join(p for p in (a.line2, a.landmark) if p),
        "pickup_city": a.city,
        "pickup_state": a.state,
        "pickup_country": "India",
        "pickup_pincode": a.pincode,
        "pickup_phone": _digits(order.customer.phone),
        "shipping_customer_name": warehouse.name,
        "shipping_address": warehouse.address,
        "shipping_city": warehouse.city,
        "shipping_state": warehouse.state,
        "shipping_country": "India",
        "shipping_pincode": warehouse.pincode,
        "shipping_phone": _digits(warehouse.phone),
        "order_items": [
            {
                "name": i.name,
                "sku": i.sku or i.name[:50],
                "units": i.quantity,
                "selling_price": _major(i.unit_price.minor),
            }
            for i in order.items
        ],
        "payment_method": "Prepaid",
        "sub_total": _major(order.total.minor),
        "length": warehouse.length_cm,
        "breadth": warehouse.breadth_cm,
        "height": warehouse.height_cm,
        "weight": warehouse.weight_kg,
        "comment": f"Return {rma}: {reason}"[:200],
    }


def book(api: ShiprocketApi, order: Order, rma: str, reason: str, warehouse: Warehouse) -> Booked:
    """Create the return order, then its AWB; raises ReturnRefused when Shiprocket declines either."""
    try:
        created = api.create_return(return_order(order, rma, reason, warehouse))
        shipment_id = text(created, "shipment_id")
        if not shipment_id:
            raise ReturnRefused(f"return order answered no shipment id ({text(created, 'message')[:200]})")
        assigned = api.assign_return_awb(shipment_id)
    except ShiprocketRefused as exc:
        raise ReturnRefused(str(exc)) from exc
    except ShiprocketApiError as exc:  # network trouble, 5xx: worth another try
        raise ReturnRefused(str(exc), retryable=True) from exc
    try:
        data = mapping(mapping(assigned, "response"), "data")
    except PayloadError as exc:
        raise ReturnRefused(f"unreadable AWB answer ({exc})") from exc
    awb = text(data, "awb_code")
    if not awb:
        raise ReturnRefused(f"no AWB for return shipment {shipment_id} ({text(assigned, 'message')[:200]})")
    pickup = text(data, "pickup_scheduled_date")
    return Booked(awb, text(data, "courier_name"), day(pickup[:10]) if pickup else None, shipment_id)


class ShiprocketReturns:
    """The ReturnsPort over Shiprocket's API (a client per booking: returns are rare)."""

    def __init__(self, base_url: str, email: str, password: str, token: str, warehouse: Warehouse):
        self._login = (base_url, email, password, token)
        self._warehouse = warehouse

    def book_return(self, order: Order, rma: str, reason: str) -> ReturnPickup:
        """Book the reverse pickup; raises VendorError when Shiprocket refuses."""
        base_url, email, password, token = self._login
        api = ShiprocketApi(base_url, email, password, token)
        try:
            booked = book(api, order, rma, reason, self._warehouse)
        except ReturnRefused as exc:
            raise VendorError(f"Shiprocket return order refused: {exc}", exc.retryable) from exc
        finally:
            api.close()
        return ReturnPickup(awb=booked.awb, courier=booked.courier, pickup_date=booked.pickup_date)
