"""The shop API clients against local fakes speaking Shopify's and WooCommerce's REST formats."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from orderwire.app import vendors
from orderwire.app.ports import StockLevel, VendorError
from orderwire.integrations.base import Delivery
from orderwire.integrations.shopify.api import HOLD_TAG, ShopifyApi
from orderwire.integrations.shopify.webhook import ADAPTER as SHOPIFY
from orderwire.integrations.woocommerce.api import WooCommerceApi
from orderwire.integrations.woocommerce.webhook import ADAPTER as WOOCOMMERCE
from orderwire.settings import Settings
from tests.support.couriers import fixture, fixture_bytes
from tests.support.shop_servers import (
    SHOPIFY_TOKEN,
    WC_KEY,
    WC_SECRET,
    ShopifyServer,
    WooCommerceServer,
)

VERSION = "2025-10"
COD_ID = "5903728165151"


@pytest.fixture
def shopify() -> Iterator[ShopifyServer]:
    with ShopifyServer() as server:
        server.orders[COD_ID] = fixture("shopify", "orders_create_cod.json")
        yield server


@pytest.fixture
def woo() -> Iterator[WooCommerceServer]:
    with WooCommerceServer() as server:
        server.orders["727"] = fixture("woocommerce", "order_cod_processing.json")
        yield server


def _webhook_event(adapter: object, topic: str, vendor: str, name: str) -> Delivery:
    headers = {"X-Shopify-Topic": topic, "X-WC-Webhook-Topic": topic}
    return adapter.parse(headers, fixture_bytes(vendor, name))  # type: ignore[attr-defined, no-any-return]


def test_shopify_fetch_order_is_what_the_webhook_gives(shopify: ShopifyServer) -> None:
    api = ShopifyApi(shopify.url, SHOPIFY_TOKEN, VERSION)
    fetched = api.fetch_order(COD_ID)
    webhook = _webhook_event(SHOPIFY, "orders/updated", "shopify", "orders_create_cod.json")
    assert fetched == webhook.events[0].event
    assert api.fetch_order("999") is None  # Shopify answers 404
    (first, missing) = shopify.requests
    assert (first.method, first.path) == ("GET", f"/admin/api/{VERSION}/orders/{COD_ID}.json")
    assert first.headers["x-shopify-access-token"] == SHOPIFY_TOKEN
    assert missing.path.endswith("/orders/999.json")
    with pytest.raises(VendorError) as refused:
        api.fetch_order("not-a-number")
    assert not refused.value.retryable and len(shopify.requests) == 2  # nothing sent


def test_shopify_cancel_and_hold(shopify: ShopifyServer) -> None:
    api = ShopifyApi(shopify.url + "/", SHOPIFY_TOKEN, VERSION)
    shopify.orders[COD_ID]["tags"] = "vip, Orderwire-Hold"
    api.hold_dispatch(COD_ID, False)
    assert shopify.orders[COD_ID]["tags"] == "vip"
    api.hold_dispatch(COD_ID, True)
    api.hold_dispatch(COD_ID, True)  # already held: read, nothing written
    assert shopify.orders[COD_ID]["tags"] == f"vip, {HOLD_TAG}"
    puts = [r for r in shopify.requests if r.method == "PUT"]
    assert [p.body for p in puts] == [
        {"order": {"id": int(COD_ID), "tags": "vip"}},
        {"order": {"id": int(COD_ID), "tags": f"vip, {HOLD_TAG}"}},
    ]
    assert all(r.query == {"fields": "id,tags"} for r in shopify.requests if r.method == "GET")
    api.cancel_order(COD_ID, "customer declined the COD order on WhatsApp")
    cancel = shopify.requests[-1]
    assert (cancel.method, cancel.path) == ("POST", f"/admin/api/{VERSION}/orders/{COD_ID}/cancel.json")
    assert cancel.body == {"reason": "customer", "email": False, "restock": True}
    with pytest.raises(VendorError) as again:  # Shopify refuses a second cancel: no use retrying
        api.cancel_order(COD_ID, "stock ran out")
    assert not again.value.retryable and "422" in str(again.value)
    assert shopify.requests[-1].body["reason"] == "other"


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (503, True), (429, True), (401, False)])
def test_shopify_errors(shopify: ShopifyServer, status: int, retryable: bool) -> None:
    api = ShopifyApi(shopify.url, SHOPIFY_TOKEN, VERSION)
    shopify.fail_next = [status]
    with pytest.raises(VendorError) as failed:
        api.fetch_order(COD_ID)
    assert failed.value.retryable is retryable and str(status) in str(failed.value)


def test_shopify_wrong_token_and_unreachable(shopify: ShopifyServer) -> None:
    with pytest.raises(VendorError) as refused:
        ShopifyApi(shopify.url, "wrong", VERSION).cancel_order(COD_ID, "")
    assert not refused.value.retryable
    with pytest.raises(VendorError) as down:
        ShopifyApi("http://127.0.0.1:9", SHOPIFY_TOKEN, VERSION, timeout=1).fetch_order(COD_ID)
    assert down.value.retryable


def test_shopify_stock_levels_by_sku(shopify: ShopifyServer) -> None:
    shopify.products = [
        {"id": 1, "variants": [{"id": 11, "sku": "KURTA-IND-M", "inventory_item_id": 101}]},
        {"id": 2, "variants": [{"id": 21, "sku": "KURTA-IND-L", "inventory_item_id": 102}]},
        {
            "id": 3,
            "variants": [{"id": 31, "sku": "TIFFIN-3", "inventory_item_id": 103}, {"id": 32, "sku": ""}],
        },
    ]
    shopify.levels = [
        {"inventory_item_id": 101, "location_id": 7, "available": 3},
        {"inventory_item_id": 101, "location_id": 8, "available": 2},
        {"inventory_item_id": 103, "location_id": 7, "available": -1},  # oversold
        {"inventory_item_id": 102, "location_id": 7, "available": 9},
    ]
    api = ShopifyApi(shopify.url, SHOPIFY_TOKEN, VERSION)
    assert api.levels(["KURTA-IND-M", "TIFFIN-3", "NOPE"]) == {
        "KURTA-IND-M": StockLevel("KURTA-IND-M", 5),
        "TIFFIN-3": StockLevel("TIFFIN-3", 0),
    }
    paths = [(r.path.rsplit("/", 1)[1], r.query) for r in shopify.requests]
    assert paths == [
        ("products.json", {"fields": "id,variants", "limit": "250"}),
        ("products.json", {"limit": "2", "page_info": "2"}),  # followed the Link header
        ("inventory_levels.json", {"inventory_item_ids": "101,103", "limit": "250"}),
    ]
    assert api.levels(["NOPE"]) == {}


def test_woocommerce_fetch_order_is_what_the_webhook_gives(woo: WooCommerceServer) -> None:
    api = WooCommerceApi(woo.url, WC_KEY, WC_SECRET)
    webhook = _webhook_event(WOOCOMMERCE, "order.updated", "woocommerce", "order_cod_processing.json")
    assert api.fetch_order("727") == webhook.events[0].event
    assert api.fetch_order("999") is None
    basic = "Basic " + base64.b64encode(f"{WC_KEY}:{WC_SECRET}".encode()).decode()
    assert [(r.method, r.path, r.headers["authorization"]) for r in woo.requests] == [
        ("GET", "/wp-json/wc/v3/orders/727", basic),
        ("GET", "/wp-json/wc/v3/orders/999", basic),
    ]


def test_woocommerce_cancel_and_hold(woo: WooCommerceServer) -> None:
    api = WooCommerceApi(woo.url, WC_KEY, WC_SECRET)
    api.hold_dispatch("727", True)
    api.hold_dispatch("727", False)
    api.cancel_order("727", "customer declined the COD order on WhatsApp")
    assert [(r.method, r.path.removeprefix("/wp-json/wc/v3"), r.body) for r in woo.requests] == [
        ("PUT", "/orders/727", {"meta_data": [{"key": "orderwire_hold", "value": "yes"}]}),
        (
            "POST",
            "/orders/727/notes",
            {"note": "Orderwire: HOLD — do not dispatch yet", "customer_note": False},
        ),
        ("PUT", "/orders/727", {"meta_data": [{"key": "orderwire_hold", "value": "no"}]}),
        ("POST", "/orders/727/notes", {"note": "Orderwire: hold released, dispatch", "customer_note": False}),
        ("PUT", "/orders/727", {"status": "cancelled"}),
        (
            "POST",
            "/orders/727/notes",
            {
                "note": "Cancelled by Orderwire: customer declined the COD order on WhatsApp",
                "customer_note": False,
            },
        ),
    ]
    assert woo.orders["727"]["status"] == "cancelled"
    assert [m["value"] for m in woo.orders["727"]["meta_data"] if m["key"] == "orderwire_hold"] == ["no"]


@pytest.mark.parametrize(
    ("status", "retryable"), [(500, True), (502, True), (429, True), (401, False), (404, False)]
)
def test_woocommerce_errors(woo: WooCommerceServer, status: int, retryable: bool) -> None:
    woo.fail_next = [status]
    with pytest.raises(VendorError) as failed:
        WooCommerceApi(woo.url, WC_KEY, WC_SECRET).cancel_order("727", "")
    assert failed.value.retryable is retryable and str(status) in str(failed.value)
    assert woo.orders["727"]["status"] == "processing"


def test_woocommerce_wrong_key_and_plain_http() -> None:
    with WooCommerceServer() as woo:
        woo.orders["727"] = fixture("woocommerce", "order_cod_processing.json")
        with pytest.raises(VendorError) as refused:
            WooCommerceApi(woo.url, WC_KEY, "wrong").fetch_order("727")
        assert not refused.value.retryable and "401" in str(refused.value)
    with pytest.raises(ValueError, match="HTTPS"):
        WooCommerceApi("http://shop.example", WC_KEY, WC_SECRET)
    with pytest.raises(ValueError, match="HTTPS"):
        ShopifyApi("http://demo.myshopify.com", SHOPIFY_TOKEN, VERSION)


def test_configured_adapters() -> None:
    assert vendors.shop(Settings()) is None and vendors.inventory(Settings()) is None
    woo = Settings(
        woocommerce_url="https://shop.example",
        woocommerce_consumer_key=WC_KEY,
        woocommerce_consumer_secret=WC_SECRET,
    )
    assert isinstance(vendors.shop(woo), WooCommerceApi) and vendors.inventory(woo) is None
    both = woo.model_copy(update={"shopify_shop_url": "https://demo.myshopify.com"})
    assert isinstance(vendors.shop(both), WooCommerceApi)  # no Shopify token yet
    both = Settings(
        shopify_shop_url="https://demo.myshopify.com",
        shopify_admin_token=SHOPIFY_TOKEN,
        woocommerce_url="https://shop.example",
        woocommerce_consumer_key=WC_KEY,
        woocommerce_consumer_secret=WC_SECRET,
    )
    assert isinstance(vendors.shop(both), ShopifyApi) and isinstance(vendors.inventory(both), ShopifyApi)
