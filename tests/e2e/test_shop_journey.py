"""A Shopify order through the real `orderwire serve` process, checked at the exact Cloud API requests."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from orderwire.integrations.shopify.webhook import signature_for
from tests.conftest import api, free_port, service_env, wait_for
from tests.e2e.test_server_process import body_params, start
from tests.support.couriers import fixture
from tests.support.graph_server import GraphServer
from tests.support.timeline import moved, shown

SECRET = "shpss_e2e_client_secret"
ORDER_ID = "5903728165152"


@pytest.fixture
def shop_server(tmp_path: Path, graph: GraphServer) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = service_env(f"sqlite:///{tmp_path}/orderwire.db", graph.url, url)
    process = start({**env, "ORDERWIRE_SHOPIFY_WEBHOOK_SECRET": SECRET}, port)
    yield url
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def deliver(url: str, topic: str, body: dict[str, Any], webhook_id: str) -> None:
    raw = json.dumps(moved(body)).encode()  # the fixtures' dates, moved next to the present
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": signature_for(SECRET, raw),
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Shop-Domain": "demo-shop.myshopify.com",
        "Content-Type": "application/json",
    }
    assert httpx.post(f"{url}/webhooks/shopify", content=raw, headers=headers, timeout=10).status_code == 200


def test_shopify_journey_exact_cloud_api_requests(shop_server: str, graph: GraphServer) -> None:
    url = shop_server
    created = {**fixture("shopify", "orders_paid.json"), "financial_status": "pending"}
    paid = {**fixture("shopify", "orders_paid.json"), "updated_at": "2026-11-30T11:05:00+05:30"}
    fulfilled = {**fixture("shopify", "fulfillments_create.json"), "order_id": int(ORDER_ID)}
    ofd = {**fixture("shopify", "fulfillment_events_create.json"), "order_id": int(ORDER_ID)}
    delivered = {
        **ofd,
        "id": ofd["id"] + 1,
        "status": "delivered",
        "message": "Delivered",
        "happened_at": "2026-12-03T13:20:00+05:30",
    }
    deliver(url, "orders/create", created, "e2e-1")  # prepaid, not paid yet: nothing to say
    with api(url) as client:
        wait_for(lambda: client.get(f"/api/v1/orders/{ORDER_ID}").status_code == 200)
    assert graph.requests == []
    steps = [
        ("orders/paid", paid, "order_confirmation"),
        ("fulfillments/create", fulfilled, "order_dispatched"),
        ("fulfillment_events/create", ofd, "order_out_for_delivery"),
        ("fulfillment_events/create", delivered, "order_delivered"),
    ]
    for n, (topic, body, _) in enumerate(steps, start=1):
        deliver(url, topic, body, f"e2e-{n + 1}")
        wait_for(lambda n=n: len(graph.requests) == n)
    with api(url) as client:
        view = client.get(f"/api/v1/orders/{ORDER_ID}").json()
    assert graph.templates() == [template for _, _, template in steps]
    token = view["tracking_url"].rsplit("/", 1)[1]
    confirmation, dispatched, out_for_delivery, delivered_msg = graph.requests
    assert all(r.path == "/v23.0/106540352242922/messages" for r in graph.requests)
    assert all(r.body["to"] == "919876543210" for r in graph.requests)
    assert confirmation.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "919876543210",
        "type": "template",
        "template": {
            "name": "order_confirmation",
            "language": {"code": "en"},
            "components": [
                {"type": "header", "parameters": [{"type": "text", "text": "#1002"}]},
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": t}
                        for t in [
                            "Ravi",
                            "#1002",
                            "1 × Steel Tiffin Box",
                            "₹1,399.00",
                            "4 Park Street, Kolkata, West Bengal, 700016",
                            shown("2026-12-05"),
                        ]
                    ],
                },
            ],
        },
    }
    assert body_params(dispatched) == ["#1002", "Delhivery", "1490816553312", shown("2026-12-05")]
    assert dispatched.body["template"]["components"][-1] == {
        "type": "button",
        "sub_type": "url",
        "index": "0",
        "parameters": [{"type": "text", "text": token}],
    }
    assert out_for_delivery.body["template"]["components"] == [
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "#1002"},
                {"type": "text", "text": "today"},
                {"type": "text", "text": "Please keep your phone reachable."},
            ],
        },
        {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": token}]},
    ]
    assert delivered_msg.body["template"]["components"] == [
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "#1002"},
                {"type": "text", "text": "1 × Steel Tiffin Box"},
            ],
        },
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": "0",
            "parameters": [{"type": "payload", "payload": f"problem:{ORDER_ID}"}],
        },
    ]
    assert view["stage"] == "delivered" and view["paid"]
    (shipment,) = view["shipments"]
    assert shipment["awb"] == "1490816553312"
    assert shipment["tracking_url"] == "https://www.delhivery.com/track/package/1490816553312"
    assert [s["raw_status"] for s in shipment["scans"]] == ["success", "out_for_delivery", "delivered"]
