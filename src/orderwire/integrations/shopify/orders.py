"""Shopify's Order resource read into our Order: one mapping for the webhooks and the Admin API.

Sources: shopify.dev/docs/api/admin-rest/latest/resources/order (the Order resource; webhook bodies of
the orders/* topics are this same resource, shopify.dev/docs/api/webhooks?reference=toml#list-orders-create):
`id`, `name` ("#1001"), `created_at`, `updated_at`, `processed_at`, `currency`, `total_price` /
`current_total_price` (decimal strings), `financial_status` (pending, authorized, partially_paid, paid,
partially_refunded, refunded, voided), `payment_gateway_names`, the deprecated `gateway`, `line_items[]`
(`name`, `title`, `quantity`, `price`, `sku`), `shipping_address` / `billing_address` (`name`, `address1`,
`address2`, `city`, `province`, `zip`, `country_code`, `phone`), `customer` (`first_name`, `last_name`,
`phone`), `phone`, `customer_locale`, `cancelled_at`, `cancel_reason`, `tags`.

Marketing opt-in (replenishment offers): the order's `customer.sms_marketing_consent.state` ==
"subscribed" (the Customer resource, shopify.dev/docs/api/admin-rest/latest/resources/customer; states
subscribed, not_subscribed, pending, unsubscribed, redacted — shopify.dev/docs/api/admin-graphql/latest/
enums/CustomerSmsMarketingState), the consent Shopify records for the customer's phone number. Neither
`buyer_accepts_marketing` ("whether the customer consented to receive email updates from the shop") nor
`email_marketing_consent` counts: consent to e-mail is not consent to WhatsApp marketing.

Cash on delivery: Shopify's manual payment method for it is named "Cash on Delivery (COD)", and that name
is what `payment_gateway_names` (and `gateway`) carry; COD apps name theirs "cash_on_delivery" or "COD".
An order is COD when any gateway name is one of those, or when it is pending and its only gateway is the
bare "manual": Indian checkout apps create their COD orders that way (e.g. gateway "manual" with a
"… - COD" tag). A pending order with a *named* manual method ("Bank Deposit", "Money Order") is not COD:
the shop is waiting for money, and the order is confirmed when orders/paid arrives — confirming it
earlier would promise an order that may never be paid.

Phone: the shipping address's (the person who receives the parcel), else the customer's, the order's,
then the billing address's — the first that reads as a valid number in its address's country. None
readable: the order is kept with no phone (`Customer.phone == ""`) and its messages are flagged for staff
instead of sent (app/orders.py); `phone_problem` says so in the delivery note.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orderwire.domain.events import OrderPlaced
from orderwire.domain.model import Address, Customer, Item, Money, Order, PaymentMethod
from orderwire.integrations.base import PayloadError, first_moment, items, mapping, text
from orderwire.integrations.commerce import first_phone, minor_units

COD_GATEWAYS = frozenset({"cash on delivery (cod)", "cash_on_delivery", "cash on delivery", "cod"})
# Money was taken (a refund later does not undo that the order was paid); partially_paid is not paid.
PAID = frozenset({"paid", "partially_refunded", "refunded"})
PHONE_UNUSABLE = "customer phone is not a valid number: messages flagged for staff, order kept"


def is_cod(order: Mapping[str, Any]) -> bool:
    """The order is paid in cash on delivery (see the module docstring for the rule)."""
    names = order.get("payment_gateway_names")
    gateways = [str(n) for n in names] if isinstance(names, list) else []
    gateways.append(text(order, "gateway"))
    named = {g.strip().lower() for g in gateways if g and g.strip()}
    if named & COD_GATEWAYS:
        return True
    return named == {"manual"} and text(order, "financial_status") == "pending"


def marketing_opt_in(customer: Mapping[str, Any]) -> bool:
    """The customer's phone number is subscribed to marketing (see the module docstring)."""
    return text(mapping(customer, "sms_marketing_consent"), "state").lower() == "subscribed"


def count(data: Mapping[str, Any], key: str) -> int:
    """A whole number field (0 when missing)."""
    value = text(data, key) or "0"
    if not value.isdigit():
        raise PayloadError(f"{key} must be a whole number")
    return int(value)


def placed(order: Mapping[str, Any]) -> tuple[OrderPlaced, bool]:
    """The order as an OrderPlaced, and whether a phone was given but none could be read."""
    order_id = text(order, "id")
    if not order_id:
        raise PayloadError("order id missing")
    currency = text(order, "currency") or "INR"
    ship, bill, customer = (
        mapping(order, "shipping_address"),
        mapping(order, "billing_address"),
        mapping(order, "customer"),
    )
    where = ship if text(ship, "address1") else bill
    region = text(ship, "country_code") or text(bill, "country_code") or "IN"
    phone, given = first_phone(
        [
            (text(ship, "phone"), text(ship, "country_code") or region),
            (text(customer, "phone"), region),
            (text(order, "phone"), region),
            (text(bill, "phone"), text(bill, "country_code") or region),
        ]
    )
    person = " ".join(p for p in (text(customer, "first_name"), text(customer, "last_name")) if p)
    name = text(ship, "name") or person or text(bill, "name")
    lines = tuple(
        Item(
            name=text(line, "name") or text(line, "title"),
            quantity=count(line, "quantity"),
            unit_price=Money(minor_units(line.get("price"), currency), currency),
            sku=text(line, "sku"),
        )
        for line in items(order, "line_items")
    )
    total = order.get("current_total_price") or order.get("total_price")
    result = Order(
        shop_id="",
        order_id=order_id,
        number=text(order, "name") or f"#{text(order, 'order_number') or order_id}",
        customer=Customer(
            phone=phone,
            name=name[:200],
            language=text(order, "customer_locale")[:16] or "en",
            marketing_opt_in=marketing_opt_in(customer),
        ),
        items=lines,
        total=Money(minor_units(total, currency), currency),
        address=Address(
            line1=text(where, "address1"),
            line2=text(where, "address2"),
            city=text(where, "city"),
            state=text(where, "province"),
            pincode=text(where, "zip"),
            country=text(where, "country_code") or "IN",
        ),
        payment=PaymentMethod.COD if is_cod(order) else PaymentMethod.PREPAID,
        placed_at=first_moment(order, "created_at", "processed_at"),
        paid=text(order, "financial_status") in PAID,
    )
    return OrderPlaced(result, first_moment(order, "updated_at", "created_at")), given and not phone
