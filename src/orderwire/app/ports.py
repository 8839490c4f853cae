"""What the use cases ask of the shop, the payment gateway and the courier, whatever the vendor.

Each vendor folder in `integrations/` implements the port it can serve (Shopify and WooCommerce the shop,
Razorpay, Stripe and Cashfree the payments, Shiprocket the return pickups); `app/vendors.py` builds the
configured one from the settings. Use cases (COD cancel, returns, refunds) call only these methods, so the
bot and the staff console share one path and tests swap in a local fake server, never a mock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from orderwire.domain.events import OrderPlaced
from orderwire.domain.model import Order


class VendorError(RuntimeError):
    """A vendor API refused or failed a call; `retryable` says whether trying again may help."""

    def __init__(self, message: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class StockLevel:
    """How many units of a SKU can be sold now; `restock_date` when the shop knows when more arrive."""

    sku: str
    available: int
    restock_date: date | None = None


class ShopPort(Protocol):
    """The shop's order system (Shopify Admin API, WooCommerce REST API)."""

    name: str

    def fetch_order(self, shop_order_id: str) -> OrderPlaced | None:
        """The order's full details as the shop holds them, or None when the shop has no such order."""
        ...

    def cancel_order(self, shop_order_id: str, reason: str) -> None:
        """Cancel the order in the shop (and restock), e.g. after the customer declined a COD order."""
        ...

    def hold_dispatch(self, shop_order_id: str, hold: bool) -> None:
        """Mark (or unmark) the order so the warehouse does not ship it yet (tag / order note)."""
        ...


class InventoryPort(Protocol):
    """Stock levels (Shopify inventory levels, a generic HTTP/CSV feed)."""

    def levels(self, skus: list[str]) -> dict[str, StockLevel]:
        """Stock for the SKUs the source knows; an unknown SKU is absent from the answer."""
        ...


@dataclass(frozen=True)
class RefundRequest:
    """A refund to issue against a captured payment; `idempotency_key` makes a retried call safe."""

    payment_ref: str
    amount_minor: int
    currency: str
    idempotency_key: str
    reason: str = ""
    gateway_order: str = ""  # the gateway's order id, for gateways that refund by order (Cashfree)


class PaymentPort(Protocol):
    """The payment gateway (Razorpay, Stripe, Cashfree)."""

    name: str

    def refund(self, request: RefundRequest) -> str:
        """Ask the gateway to refund; returns the gateway's refund id (its webhook reports the outcome)."""
        ...


@dataclass(frozen=True)
class ReturnPickup:
    """A reverse pickup booked with the courier: its AWB and, when known, the pickup date."""

    awb: str
    courier: str = ""
    pickup_date: date | None = None
    label_url: str = ""


class ReturnsPort(Protocol):
    """Reverse pickups (Shiprocket return orders)."""

    def book_return(self, order: Order, rma: str, reason: str) -> ReturnPickup:
        """Book a pickup from the customer's address back to the shop."""
        ...


# --- CRM (outbound events; app/crm.py) ---
class CrmPort(Protocol):
    """A CRM that files order events on the customer's contact (HubSpot).

    Calls raise `httpx.HTTPStatusError` for an answer they cannot use (the outbox reads its status and
    `Retry-After`) and `httpx.TransportError` when the CRM cannot be reached.
    """

    name: str

    def upsert_contact(self, phone: str, name: str) -> str:
        """The CRM's id of the contact with this E.164 phone, created when there is none."""
        ...

    def add_note(self, contact_id: str, text: str, at: datetime) -> str:
        """A note on the contact's timeline at `at`; returns the note's id."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
