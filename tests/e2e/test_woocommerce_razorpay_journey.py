"""A WooCommerce order paid through Razorpay, through the real `orderwire serve` process: the shop's
webhook gives the details, the gateway's the payment; the confirmation goes out once, whoever is first and
however often each of them redelivers."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from orderwire.integrations.razorpay.webhook import signature_for as razorpay_signature
from orderwire.integrations.woocommerce.webhook import signature_for as woocommerce_signature
from tests.conftest import api, free_port, service_env, wait_for
from tests.e2e.test_server_process import body_params, start
from tests.support.couriers import fixture
from tests.support.graph_server import GraphServer

WOO_SECRET = "wc-e2e-secret"
RAZORPAY_SECRET = "rzp-e2e-secret"
WOO_ORDER = "728"


@pytest.fixture
def shop(tmp_path: Path, graph: GraphServer) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = service_env(f"sqlite:///{tmp_path}/orderwire.db", graph.url, url) | {
        "ORDERWIRE_WOOCOMMERCE_WEBHOOK_SECRET": WOO_SECRET,
        "ORDERWIRE_RAZORPAY_WEBHOOK_SECRET": RAZORPAY_SECRET,
    }
    process = start(env, port)
    yield url
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def woocommerce(url: str, topic: str, body: dict[str, Any], delivery: str) -> None:
    raw = json.dumps(body).encode()
    headers = {
        "X-WC-Webhook-Source": "https://shop.example/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": topic.split(".")[0],
        "X-WC-Webhook-Event": topic.split(".")[1],
        "X-WC-Webhook-Signature": woocommerce_signature(WOO_SECRET, raw),
        "X-WC-Webhook-ID": "12",
        "X-WC-Webhook-Delivery-ID": delivery,
        "Content-Type": "application/json",
    }
    answer = httpx.post(f"{url}/webhooks/woocommerce", content=raw, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text


def razorpay(url: str, body: dict[str, Any], event_id: str) -> None:
    raw = json.dumps(body).encode()
    headers = {
        "X-Razorpay-Signature": razorpay_signature(RAZORPAY_SECRET, raw),
        "x-razorpay-event-id": event_id,
        "Content-Type": "application/json",
    }
    answer = httpx.post(f"{url}/webhooks/razorpay", content=raw, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text


def _captured() -> dict[str, Any]:
    body = fixture("razorpay", "payment_captured.json")
    payment = body["payload"]["payment"]["entity"]
    payment["notes"] = {"woocommerce_order_id": WOO_ORDER}
    payment["amount"] = 139899
    return body


def test_payment_first_then_order_then_redeliveries(shop: str, graph: GraphServer) -> None:
    url = shop
    # The gateway is quicker than the shop: the payment waits for the order it names.
    razorpay(url, _captured(), "evt_capture_1")
    woocommerce(url, "order.created", fixture("woocommerce", "order_prepaid_pending.json"), "d-1")
    wait_for(lambda: len(graph.requests) == 1)
    # Everyone redelivers: Razorpay the capture, WooCommerce the order (now processing, paid).
    razorpay(url, _captured(), "evt_capture_1")
    paid = {
        **fixture("woocommerce", "order_prepaid_pending.json"),
        "status": "processing",
        "date_paid": "2026-11-27T10:05:00",
        "transaction_id": "pay_DESp9bgForNoUd",
    }
    woocommerce(url, "order.updated", paid, "d-2")
    woocommerce(url, "order.updated", paid, "d-2")
    with api(url) as client:
        view = wait_for(lambda: _settled(client))
    assert graph.templates() == ["order_confirmation"]  # once, however the news arrived
    (confirmation,) = graph.requests
    assert confirmation.body["to"] == "919876543210"
    params = body_params(confirmation)
    assert params[1] == "#728" and params[3] == "₹1,398.99"
    assert view["stage"] == "confirmed" and view["paid"]


def _settled(client: httpx.Client) -> dict[str, Any] | None:
    view: dict[str, Any] = client.get(f"/api/v1/orders/{WOO_ORDER}").json()
    events = [t["event"] for t in view.get("timeline", [])]
    return view if events.count("order_placed") >= 2 and "payment_captured" in events else None
