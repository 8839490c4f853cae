"""Shop webhooks through the real service: every topic twice changes nothing, the ping, the flagged phone,
and the shop vendor calls reaching the shop's API."""

from __future__ import annotations

import json
from typing import Any

import httpx
import sqlalchemy as sa

from orderwire.app import vendor_calls
from orderwire.domain.lifecycle import SHOP_CANCEL, SHOP_HOLD
from orderwire.integrations.shopify.webhook import signature_for as shopify_signature
from orderwire.integrations.woocommerce.webhook import signature_for as woo_signature
from orderwire.store.tables import inbound, jobs, orders
from tests.conftest import api, service_env, wait_for
from tests.support.couriers import fixture
from tests.support.graph_server import GraphServer
from tests.support.live import LiveService
from tests.support.shop_servers import SHOPIFY_TOKEN, ShopifyServer
from tests.support.timeline import moved

SHOPIFY_SECRET = "shpss_test_client_secret"
WOO_SECRET = "wc-test-webhook-secret"
COD, PREPAID = "5903728165151", "5903728165152"


def shop_env(database_url: str, graph: GraphServer, **extra: str) -> dict[str, str]:
    return {
        **service_env(database_url, graph.url, ""),
        "ORDERWIRE_SHOPIFY_WEBHOOK_SECRET": SHOPIFY_SECRET,
        "ORDERWIRE_WOOCOMMERCE_WEBHOOK_SECRET": WOO_SECRET,
        **extra,
    }


def post_shopify(client: httpx.Client, topic: str, body: dict[str, Any], webhook_id: str) -> httpx.Response:
    raw = json.dumps(moved(body)).encode()  # the fixtures' dates, moved next to the present
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": shopify_signature(SHOPIFY_SECRET, raw),
        "X-Shopify-Webhook-Id": webhook_id,
        "Content-Type": "application/json",
    }
    return client.post("/webhooks/shopify", content=raw, headers=headers)


def post_woo(client: httpx.Client, topic: str, body: dict[str, Any], delivery_id: str) -> httpx.Response:
    raw = json.dumps(moved(body)).encode()
    headers = {
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Signature": woo_signature(WOO_SECRET, raw),
        "X-WC-Webhook-Delivery-ID": delivery_id,
        "Content-Type": "application/json",
    }
    return client.post("/webhooks/woocommerce", content=raw, headers=headers)


def settled(client: httpx.Client, order_id: str) -> bool:
    view = client.get(f"/api/v1/orders/{order_id}").json()
    return all(m["status"] not in ("scheduled", "queued") for m in view.get("messages", []))


def count(live: LiveService, table: sa.Table, *where: Any) -> int:
    with live.rt.engine.connect() as conn:  # type: ignore[union-attr]
        return int(conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one())


def test_shopify_every_topic_twice_changes_nothing(database_url: str, graph: GraphServer) -> None:
    cod, paid = fixture("shopify", "orders_create_cod.json"), fixture("shopify", "orders_paid.json")
    fulfilled = {**fixture("shopify", "fulfillments_create.json"), "order_id": int(PREPAID)}
    ofd = {**fixture("shopify", "fulfillment_events_create.json"), "order_id": int(PREPAID)}
    delivered = {
        **ofd,
        "id": ofd["id"] + 1,
        "status": "delivered",
        "happened_at": "2026-12-03T13:20:00+05:30",
    }
    in_transit = {**fulfilled, "shipment_status": "in_transit", "updated_at": "2026-12-02T08:00:00+05:30"}
    steps: list[tuple[str, dict[str, Any], list[str]]] = [
        ("orders/create", cod, ["order_cod_confirm"]),  # COD: the customer confirms first
        ("orders/updated", cod, []),
        ("orders/cancelled", fixture("shopify", "orders_cancelled.json"), ["order_cancelled"]),
        ("orders/create", paid, ["order_confirmation"]),
        ("orders/paid", paid, []),
        ("fulfillments/create", fulfilled, ["order_dispatched"]),
        ("fulfillments/update", in_transit, []),
        ("fulfillment_events/create", ofd, ["order_out_for_delivery"]),
        ("fulfillment_events/create", delivered, ["order_delivered"]),
        ("products/update", fixture("shopify", "products_update.json"), []),
    ]
    expected: list[str] = []
    with LiveService(shop_env(database_url, graph)) as live, api(live.url) as client:
        for n, (topic, body, sends) in enumerate(steps):
            for _ in range(2):  # Shopify retries: the same webhook id again
                assert post_shopify(client, topic, body, f"wh-{n}").status_code == 200
            expected += sends
            wait_for(
                lambda want=list(expected): (
                    graph.templates() == want and settled(client, PREPAID) and settled(client, COD)
                )
            )
        view = client.get(f"/api/v1/orders/{PREPAID}").json()
        assert view["stage"] == "delivered" and view["number"] == "#1002"
        (shipment,) = view["shipments"]
        assert (shipment["awb"], shipment["courier"], shipment["status"]) == (
            "1490816553312",
            "Delhivery",
            "delivered",
        )
        assert client.get(f"/api/v1/orders/{COD}").json()["stage"] == "cancelled"
        assert count(live, inbound, inbound.c.source == "shopify") == len(steps)
        assert count(live, jobs, jobs.c.status == "parked") == 0
        # A delivery with the same id but another body is still the same delivery (Shopify's retry).
        assert post_shopify(client, "orders/paid", cod, "wh-4").status_code == 200
        assert count(live, inbound, inbound.c.source == "shopify") == len(steps)
    assert graph.templates() == expected
    dispatched = next(r for r in graph.requests if r.body["template"]["name"] == "order_dispatched")
    assert dispatched.body["to"] == "919876543210"


def test_shopify_refusals(database_url: str, graph: GraphServer) -> None:
    body = fixture("shopify", "orders_create_cod.json")
    raw = json.dumps(body).encode()
    env = shop_env(database_url, graph, ORDERWIRE_WOOCOMMERCE_WEBHOOK_SECRET="")
    with LiveService(env) as live, api(live.url) as client:
        # WooCommerce has no secret configured: it refuses everything, even its own ping.
        assert client.post("/webhooks/woocommerce", content=b"webhook_id=12").status_code == 401
        assert post_woo(client, "order.created", body, "d1").status_code == 401
        tampered = {
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Hmac-Sha256": shopify_signature(SHOPIFY_SECRET, raw),
        }
        assert client.post("/webhooks/shopify", content=raw + b" ", headers=tampered).status_code == 401
        wrong = {**tampered, "X-Shopify-Hmac-Sha256": shopify_signature("other", raw)}
        assert client.post("/webhooks/shopify", content=raw, headers=wrong).status_code == 401
        bad = b"{not json"
        signed = {
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Hmac-Sha256": shopify_signature(SHOPIFY_SECRET, bad),
        }
        answer = client.post("/webhooks/shopify", content=bad, headers=signed)
        assert answer.status_code == 400 and "not JSON" in answer.json()["detail"]
        # WooCommerce's ping shape is no excuse on Shopify's path.
        assert client.post("/webhooks/shopify", content=b"webhook_id=1").status_code == 401
        assert count(live, inbound) == 0
    assert graph.requests == []


def test_unreadable_phone_keeps_the_order_and_flags_it(database_url: str, graph: GraphServer) -> None:
    example = fixture("shopify", "orders_create_example.json")
    example["financial_status"] = "paid"
    with LiveService(shop_env(database_url, graph)) as live, api(live.url) as client:
        assert post_shopify(client, "orders/create", example, "wh-ex").status_code == 200
        view = wait_for(lambda: _with_messages(client, "820982911946154508"))
        assert view["stage"] == "confirmed" and view["customer"]["phone"] == ""
        (message,) = view["messages"]
        assert (
            message["kind"] == "confirmation" and message["status"] == "failed" and message["needs_attention"]
        )
        assert "phone" in message["error_detail"]
        with live.rt.engine.connect() as conn:  # type: ignore[union-attr]
            note = conn.execute(sa.select(inbound.c.note)).scalar_one()
        assert "phone" in note
    assert graph.requests == []


def _with_messages(client: httpx.Client, order_id: str) -> dict[str, Any] | None:
    answer = client.get(f"/api/v1/orders/{order_id}")
    return answer.json() if answer.status_code == 200 and answer.json()["messages"] else None


def test_woocommerce_ping_and_orders_twice(database_url: str, graph: GraphServer) -> None:
    cod = fixture("woocommerce", "order_cod_processing.json")
    cancelled = {**cod, "status": "cancelled", "date_modified_gmt": "2026-11-30T06:00:00"}
    with LiveService(shop_env(database_url, graph)) as live, api(live.url) as client:
        ping = {"User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)"}
        for _ in range(2):
            answer = client.post("/webhooks/woocommerce", content=b"webhook_id=12", headers=ping)
            assert answer.status_code == 200
        assert client.post("/webhooks/woocommerce", content=b"webhook_id=12&x=1").status_code == 401
        assert client.post("/webhooks/woocommerce", content=json.dumps(cod).encode()).status_code == 401
        steps = [
            ("order.created", cod, ["order_cod_confirm"]),  # COD: the customer confirms first
            ("order.updated", cod, []),
            ("order.updated", cancelled, ["order_cancelled"]),
            ("product.updated", {"id": 93}, []),
        ]
        expected: list[str] = []
        for n, (topic, body, sends) in enumerate(steps):
            for _ in range(2):
                assert post_woo(client, topic, body, f"d{n}").status_code == 200
            expected += sends
            wait_for(lambda want=list(expected): graph.templates() == want and settled(client, "727"))
        assert count(live, inbound, inbound.c.source == "woocommerce") == 1 + len(steps)
        with live.rt.engine.connect() as conn:  # type: ignore[union-attr]
            topics = conn.execute(sa.select(inbound.c.topic, inbound.c.note).order_by(inbound.c.id)).all()
        assert topics[0] == ("ping", "webhook 12 created (unsigned ping)")
        assert topics[-1] == ("product.updated", "product.updated: not used")
    assert graph.templates() == ["order_cod_confirm", "order_cancelled"]


def _queue(live: LiveService, order_id: str, kind: str, payload: dict[str, str]) -> None:
    rt = live.rt
    assert rt is not None
    with rt.engine.begin() as conn:
        pk = conn.execute(sa.select(orders.c.id).where(orders.c.order_id == order_id)).scalar_one()
        vendor_calls.queue(
            conn,
            rt,
            kind,
            order_id=order_id,
            order_pk=pk,
            payload=payload,
            dedupe_key=f"t:{kind}",
            now=rt.clock(),
        )
    rt.wake()


def test_shop_calls_reach_the_shop(database_url: str, graph: GraphServer) -> None:
    cod = fixture("shopify", "orders_create_cod.json")
    with ShopifyServer() as shop:
        shop.orders[COD] = json.loads(json.dumps(cod))
        env = shop_env(
            database_url,
            graph,
            ORDERWIRE_SHOPIFY_SHOP_URL=shop.url,
            ORDERWIRE_SHOPIFY_ADMIN_TOKEN=SHOPIFY_TOKEN,
        )
        with LiveService(env) as live, api(live.url) as client:
            assert post_shopify(client, "orders/create", cod, "wh-1").status_code == 200
            wait_for(lambda: graph.templates() == ["order_cod_confirm"])
            _queue(live, COD, SHOP_HOLD, {"hold": "1", "reason": "customer asked to wait"})
            wait_for(lambda: shop.orders[COD].get("tags") == "orderwire-hold")
            _queue(live, COD, SHOP_CANCEL, {"reason": "customer declined the COD order"})
            wait_for(lambda: bool(shop.orders[COD].get("cancelled_at")))
            cancel = next(r for r in shop.requests if r.path.endswith("/cancel.json"))
            assert cancel.body == {"reason": "customer", "email": False, "restock": True}
            view = wait_for(lambda: _timeline_has(client, COD, "cancelled in shopify"))
            assert view["escalations"] == []


def test_shop_call_without_shop_api_goes_to_staff(database_url: str, graph: GraphServer) -> None:
    cod = fixture("shopify", "orders_create_cod.json")
    with LiveService(shop_env(database_url, graph)) as live, api(live.url) as client:
        assert post_shopify(client, "orders/create", cod, "wh-1").status_code == 200
        wait_for(lambda: graph.templates() == ["order_cod_confirm"])
        _queue(live, COD, SHOP_CANCEL, {"reason": "customer declined"})
        view = wait_for(lambda: _timeline_has(client, COD, "no shop API configured"))
        assert [c["reason"] for c in view["escalations"]] == ["cancel_in_shop"]


def _timeline_has(client: httpx.Client, order_id: str, words: str) -> dict[str, Any] | None:
    view: dict[str, Any] = client.get(f"/api/v1/orders/{order_id}").json()
    return view if any(words in e["note"] for e in view["timeline"]) else None
