"""WooCommerce's order (REST API v3) read into canonical events: one mapping for webhooks and the API.

Sources: woocommerce.github.io/woocommerce-rest-api-docs/#order-properties (`id`, `number`, `status`
pending | processing | on-hold | completed | cancelled | refunded | failed | trash, `currency`,
`date_created_gmt`, `date_modified_gmt`, `date_paid_gmt` (UTC, written without an offset), `total`,
`billing` / `shipping` (`first_name`, `last_name`, `address_1`, `address_2`, `city`, `state`, `postcode`,
`country`, `phone` — the shipping phone since WooCommerce 5.6), `payment_method` (`cod` for the built-in
Cash on delivery gateway), `transaction_id`, `payment_url`, `line_items[]` (`name`, `quantity`, `price`,
`sku`), `refunds[]` (`id`, `reason`, `total`)); the status meanings in woocommerce.com/document/
managing-orders/order-statuses. The webhook body of the order.* topics is this same resource (WC_Webhook
builds it from `/wc/v3/orders/{id}`).

Statuses to events:
- pending (awaiting payment), on-hold (awaiting a manual payment), processing, completed: the order
  (re)sent. It is paid when WooCommerce recorded a payment date and the method is not COD: WooCommerce
  also stamps `date_paid` on COD orders when they reach processing, though no money has moved. The
  lifecycle confirms a COD order on placement and a prepaid one on its first paid re-send, so one event
  carries the payment; the gateway's `transaction_id` goes into the order's references as `payment`.
  `completed` says the shop is done, not that the parcel arrived: delivery news comes from the courier.
- cancelled: OrderCancelled (WooCommerce has no cancel reason field).
- failed: the order, then PaymentFailed with the order's `payment_url` for a retry.
- refunded: RefundUpdated for each refund listed (processed), beside the order re-sent.
- anything else (trash, a plugin's own status): the order re-sent, the status noted.

Phone: the shipping phone, else the billing phone (required at checkout by default), each read in its
address's country; none readable keeps the order with no phone and flags its messages (app/orders.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orderwire.domain.events import Event, OrderCancelled, OrderPlaced, PaymentFailed, RefundUpdated
from orderwire.domain.model import Address, Customer, Item, Money, Order, PaymentMethod
from orderwire.integrations.base import PayloadError, first_moment, items, mapping, text
from orderwire.integrations.commerce import first_phone, minor_units

PHONE_UNUSABLE = "customer phone is not a valid number: messages flagged for staff, order kept"
KNOWN_STATUSES = frozenset(
    {"pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed"}
)


def placed(order: Mapping[str, Any]) -> tuple[OrderPlaced, bool]:
    """The order as an OrderPlaced, and whether a phone was given but none could be read."""
    order_id = text(order, "id")
    if not order_id:
        raise PayloadError("order id missing")
    currency = text(order, "currency") or "INR"
    ship, bill = mapping(order, "shipping"), mapping(order, "billing")
    where = ship if text(ship, "address_1") else bill
    phone, given = first_phone(
        [
            (text(ship, "phone"), text(ship, "country") or text(bill, "country") or "IN"),
            (text(bill, "phone"), text(bill, "country") or text(ship, "country") or "IN"),
        ]
    )
    name = " ".join(p for p in (text(where, "first_name"), text(where, "last_name")) if p)
    lines = tuple(
        Item(
            name=text(line, "name"),
            quantity=_count(line, "quantity"),
            unit_price=Money(minor_units(line.get("price"), currency), currency),
            sku=text(line, "sku"),
        )
        for line in items(order, "line_items")
    )
    cod = text(order, "payment_method") == "cod"
    paid_at = text(order, "date_paid_gmt")
    transaction = text(order, "transaction_id")
    result = Order(
        shop_id="",
        order_id=order_id,
        number=f"#{text(order, 'number') or order_id}",
        customer=Customer(phone=phone, name=name[:200]),
        items=lines,
        total=Money(minor_units(order.get("total"), currency), currency),
        address=Address(
            line1=text(where, "address_1"),
            line2=text(where, "address_2"),
            city=text(where, "city"),
            state=text(where, "state"),
            pincode=text(where, "postcode"),
            country=text(where, "country") or "IN",
        ),
        payment=PaymentMethod.COD if cod else PaymentMethod.PREPAID,
        placed_at=first_moment(order, "date_created_gmt"),
        paid=bool(paid_at) and not cod,
        references={"payment": transaction} if transaction and paid_at and not cod else {},
    )
    return OrderPlaced(
        result, first_moment(order, "date_modified_gmt", "date_created_gmt")
    ), given and not phone


def order_events(order: Mapping[str, Any]) -> tuple[list[Event], str]:
    """The events an order's status implies, and a note for the delivery (see the module docstring)."""
    status = text(order, "status")
    at = first_moment(order, "date_modified_gmt", "date_created_gmt")
    if status == "cancelled":
        return [OrderCancelled(at, "cancelled in WooCommerce")], ""
    event, unusable = placed(order)
    events: list[Event] = [event]
    notes = [PHONE_UNUSABLE] if unusable else []
    if status == "failed":
        ref = text(order, "transaction_id")
        events.append(PaymentFailed(at, ref, "payment failed", text(order, "payment_url")))
    elif status == "refunded":
        currency = event.order.total.currency
        events += [
            RefundUpdated(
                occurred_at=at,
                refund_ref=text(refund, "id"),
                status="processed",
                amount_minor=abs(minor_units(refund.get("total"), currency)),
                currency=currency,
                reason=text(refund, "reason"),
            )
            for refund in items(order, "refunds")
            if text(refund, "id")
        ]
    elif status not in KNOWN_STATUSES:
        notes.append(f"status {status!r}: order details only")
    return events, "; ".join(notes)


def _count(data: Mapping[str, Any], key: str) -> int:
    value = text(data, key) or "0"
    if not value.isdigit():
        raise PayloadError(f"{key} must be a whole number")
    return int(value)
