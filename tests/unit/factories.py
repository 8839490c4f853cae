"""Small builders for domain objects used across unit tests."""

from __future__ import annotations

from datetime import UTC, datetime

from orderwire.domain.model import Address, Customer, Item, Money, Order, PaymentMethod

T0 = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)  # 11:30 in Kolkata, outside quiet hours


def order(
    payment: PaymentMethod = PaymentMethod.PREPAID,
    paid: bool = False,
    total_minor: int = 12345600,
    language: str = "en",
    first_order: bool = False,
) -> Order:
    """An order for two kurtas, to Bengaluru."""
    return Order(
        shop_id="default",
        order_id="o-1",
        number="#1001",
        customer=Customer("+919812345678", "Asha Rao", language, first_order),
        items=(Item("Cotton Kurta", 2, Money(total_minor // 2, "INR")),),
        total=Money(total_minor, "INR"),
        address=Address("12 MG Road", "Bengaluru", "560001"),
        payment=payment,
        placed_at=T0,
        paid=paid,
    )
