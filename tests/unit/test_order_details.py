"""Which shop order id a parked payment lets us fetch the order by."""

from __future__ import annotations

from orderwire.app.order_details import shop_order_id


def test_shop_order_id_from_the_reference_or_its_fallback() -> None:
    assert shop_order_id("order:1001", "") == "1001"
    assert shop_order_id("razorpay_order:order_Nx7", "order:5432101") == "5432101"
    assert shop_order_id("stripe_session:cs_test_1", "") == ""
    assert shop_order_id("number:#1001", "") == ""  # a display number is not the shop's id
    assert shop_order_id("order:", "") == ""
