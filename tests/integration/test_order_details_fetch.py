"""A payment whose order never reaches us: after a while the order is fetched from the shop's API
(Shopify Admin API, here a local fake speaking its format), and the customer is confirmed once."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import api, wait_for
from tests.integration.test_payment_webhooks import payment_env, post_razorpay
from tests.integration.test_shop_webhooks import PREPAID
from tests.support.couriers import fixture
from tests.support.graph_server import GraphServer
from tests.support.live import LiveService
from tests.support.shop_servers import SHOPIFY_TOKEN, ShopifyServer


def _captured_for(shop_order_id: str) -> dict[str, Any]:
    body = fixture("razorpay", "payment_captured.json")
    body["payload"]["payment"]["entity"]["notes"] = {"shopify_order_id": shop_order_id}
    return body


def test_missing_order_details_are_fetched_from_the_shop(database_url: str, graph: GraphServer) -> None:
    paid = fixture("shopify", "orders_paid.json")
    with ShopifyServer() as shop:
        shop.orders[PREPAID] = json.loads(json.dumps(paid))
        env = payment_env(
            database_url,
            graph,
            ORDERWIRE_SHOPIFY_SHOP_URL=shop.url,
            ORDERWIRE_SHOPIFY_ADMIN_TOKEN=SHOPIFY_TOKEN,
            ORDERWIRE_ORDER_DETAILS_WAIT_SECONDS="1",
        )
        with LiveService(env) as live, api(live.url) as client:
            assert post_razorpay(client, _captured_for(PREPAID), "evt_1") == 200
            assert graph.requests == []  # the order is not known yet: the payment waits
            wait_for(lambda: graph.templates() == ["order_confirmation"], timeout=30)
            fetched = [r for r in shop.requests if r.path.endswith(f"/orders/{PREPAID}.json")]
            assert len(fetched) == 1 and fetched[0].method == "GET"
            view = client.get(f"/api/v1/orders/{PREPAID}").json()
            assert view["stage"] == "confirmed" and view["paid"] and view["escalations"] == []
            # The gateway redelivers; the shop's own webhook arrives late: still one confirmation.
            assert post_razorpay(client, _captured_for(PREPAID), "evt_1") == 200
            wait_for(lambda: len(client.get(f"/api/v1/orders/{PREPAID}").json()["timeline"]) >= 2)
        assert graph.templates() == ["order_confirmation"]
