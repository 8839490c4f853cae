"""Payment gateway webhooks through the real service: confirmation on payment, redelivery, auth, refunds."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import httpx
import sqlalchemy as sa

from orderwire.app import vendor_calls
from orderwire.domain.lifecycle import PAYMENT_REFUND
from orderwire.integrations.cashfree.webhook import signature_for as cashfree_signature
from orderwire.integrations.razorpay.webhook import signature_for as razorpay_signature
from orderwire.integrations.stripe.webhook import signature_for as stripe_signature
from orderwire.store.tables import inbound, orders
from tests.conftest import api, service_env, wait_for
from tests.integration.test_journey import ORDER
from tests.support.couriers import fixture
from tests.support.graph_server import GraphServer
from tests.support.live import LiveService
from tests.support.payment_servers import RAZORPAY_KEY, PaymentServer

RAZORPAY_SECRET, STRIPE_SECRET, CASHFREE_SECRET = "rzp-webhook-secret", "whsec_live_test", "cf-client-secret"


def payment_env(database_url: str, graph: GraphServer, **extra: str) -> dict[str, str]:
    return {
        **service_env(database_url, graph.url, ""),
        "ORDERWIRE_RAZORPAY_WEBHOOK_SECRET": RAZORPAY_SECRET,
        **extra,
    }


def post_razorpay(
    client: httpx.Client, body: dict[str, Any], event_id: str, secret: str = RAZORPAY_SECRET
) -> int:
    raw = json.dumps(body).encode()
    headers = {"X-Razorpay-Signature": razorpay_signature(secret, raw), "x-razorpay-event-id": event_id}
    return client.post("/webhooks/razorpay", content=raw, headers=headers).status_code


def post_stripe(client: httpx.Client, body: dict[str, Any]) -> int:
    raw = json.dumps(body).encode()
    headers = {"Stripe-Signature": stripe_signature(STRIPE_SECRET, raw, int(time.time()))}
    return client.post("/webhooks/stripe", content=raw, headers=headers).status_code


def post_cashfree(client: httpx.Client, body: dict[str, Any], key: str) -> int:
    raw, stamp = json.dumps(body).encode(), str(int(time.time() * 1000))
    headers = {
        "x-webhook-signature": cashfree_signature(CASHFREE_SECRET, raw, stamp),
        "x-webhook-timestamp": stamp,
        "x-webhook-version": "2025-01-01",
        "x-idempotency-key": key,
    }
    return client.post("/webhooks/cashfree", content=raw, headers=headers).status_code


def razorpay_captured(order_id: str) -> dict[str, Any]:
    body = copy.deepcopy(fixture("razorpay", "payment_captured.json"))
    body["payload"]["payment"]["entity"]["notes"] = {"woocommerce_order_id": order_id}
    return body


def stripe_session(order_id: str) -> dict[str, Any]:
    body = copy.deepcopy(fixture("stripe", "checkout_session_completed.json"))
    body["data"]["object"]["client_reference_id"] = order_id
    return body


def cashfree_success(order_id: str) -> dict[str, Any]:
    body = copy.deepcopy(fixture("cashfree", "payment_success.json"))
    body["data"]["order"]["order_id"] = order_id
    return body


def stored(live: LiveService) -> int:
    with live.rt.engine.connect() as conn:  # type: ignore[union-attr]
        return int(conn.execute(sa.select(sa.func.count()).select_from(inbound)).scalar_one())


def timeline_has(client: httpx.Client, order_id: str, words: str) -> Any:
    view = client.get(f"/api/v1/orders/{order_id}").json()
    return view if any(words in t["note"] or words == t["event"] for t in view.get("timeline", [])) else None


def queue_refund(live: LiveService, order_id: str, payload: dict[str, str]) -> None:
    rt = live.rt
    assert rt is not None
    with rt.engine.begin() as conn:
        order_pk = conn.execute(sa.select(orders.c.id).where(orders.c.order_id == order_id)).scalar_one()
        vendor_calls.queue(
            conn,
            rt,
            PAYMENT_REFUND,
            order_id=order_id,
            order_pk=int(order_pk),
            payload=payload,
            dedupe_key=f"call:{order_id}:refund:1",
            now=rt.clock(),
        )
    rt.wake()


def test_each_gateway_confirms_once_and_refunds_link_by_payment(
    database_url: str, graph: GraphServer
) -> None:
    with PaymentServer() as gateway:
        env = payment_env(
            database_url,
            graph,
            ORDERWIRE_STRIPE_WEBHOOK_SECRET=STRIPE_SECRET,
            ORDERWIRE_CASHFREE_CLIENT_SECRET=CASHFREE_SECRET,
            ORDERWIRE_RAZORPAY_API_URL=gateway.url,
            ORDERWIRE_RAZORPAY_KEY_ID=RAZORPAY_KEY[0],
            ORDERWIRE_RAZORPAY_KEY_SECRET=RAZORPAY_KEY[1],
        )
        with LiveService(env) as live, api(live.url) as client:
            for order_id in ("shop-1001", "shop-1002", "shop-1003"):
                client.post("/api/v1/orders", json={**ORDER, "order_id": order_id}).raise_for_status()
                wait_for(lambda o=order_id: timeline_has(client, o, "waiting for payment"))
            assert graph.templates() == []  # prepaid: nothing until the money is in
            deliveries = [
                lambda: post_razorpay(client, razorpay_captured("shop-1001"), "evt_rzp_1"),
                lambda: post_stripe(client, stripe_session("shop-1002")),
                lambda: post_cashfree(client, cashfree_success("shop-1003"), "cf-idem-1"),
            ]
            for n, deliver in enumerate(deliveries, start=1):
                assert deliver() == 200
                wait_for(lambda n=n: len(graph.requests) == n)
                before = stored(live)
                assert deliver() == 200  # the gateway retries: recognised, nothing new
                assert stored(live) == before
            # Razorpay's order.paid for the same payment: a second notice, not a second message.
            paid = copy.deepcopy(fixture("razorpay", "order_paid.json"))
            paid["payload"]["order"]["entity"]["notes"] = {"woocommerce_order_id": "shop-1001"}
            assert post_razorpay(client, paid, "evt_rzp_2") == 200
            wait_for(lambda: timeline_has(client, "shop-1001", "payment already recorded"))
            # A refund naming only the payment finds the order through what the capture taught it.
            refund = copy.deepcopy(fixture("razorpay", "refund_processed.json"))
            refund["payload"]["payment"]["entity"].update(notes=[], order_id=None)
            assert post_razorpay(client, refund, "evt_rzp_3") == 200
            wait_for(lambda: timeline_has(client, "shop-1001", "refund_updated"))
            # A bad signature is refused and nothing is stored.
            before = stored(live)
            assert post_razorpay(client, razorpay_captured("shop-1001"), "evt_rzp_4", secret="wrong") == 401
            assert stored(live) == before
            # A refund asked by a decision goes to the gateway's API, by the payment the order knows.
            queue_refund(
                live, "shop-1001", {"amount_minor": "50000", "currency": "INR", "reason": "returned"}
            )
            view = wait_for(lambda: timeline_has(client, "shop-1001", "asked razorpay"))
            assert not view["escalations"]
        (refund_call,) = gateway.requests
        assert (
            refund_call.path == "/v1/payments/pay_DESp9bgForNoUd/refund"
            and refund_call.json()["amount"] == 50000
        )
    assert graph.templates() == ["order_confirmation"] * 3
    assert sorted(r.body["to"] for r in graph.requests) == ["919812345678"] * 3


def test_unconfigured_gateways_unknown_events_and_payment_before_order(
    database_url: str, graph: GraphServer
) -> None:
    with LiveService(payment_env(database_url, graph)) as live, api(live.url) as client:
        # Stripe and Cashfree have no secret here: they accept nothing.
        assert post_stripe(client, stripe_session("shop-1001")) == 401
        assert post_cashfree(client, cashfree_success("shop-1001"), "cf-idem-2") == 401
        assert stored(live) == 0
        # A well-signed event we do not use is stored and acknowledged.
        authorized = copy.deepcopy(fixture("razorpay", "payment_authorized.json"))
        assert post_razorpay(client, authorized, "evt_rzp_auth") == 200
        with live.rt.engine.connect() as conn:  # type: ignore[union-attr]
            (row,) = conn.execute(sa.select(inbound.c.source, inbound.c.topic, inbound.c.note)).all()
        assert tuple(row) == ("razorpay", "payment.authorized", "payment.authorized: not used")
        # Paid before the shop's order reached us: the payment waits, then confirms once.
        assert post_razorpay(client, razorpay_captured("shop-1001"), "evt_rzp_early") == 200
        waiting = client.get("/api/v1/orders/shop-1001")
        assert waiting.status_code == 404 and "1 event(s) wait" in waiting.json()["detail"]
        client.post("/api/v1/orders", json=ORDER).raise_for_status()
        wait_for(lambda: timeline_has(client, "shop-1001", "payment captured"))
        view = client.get("/api/v1/orders/shop-1001").json()  # read again: state and timeline are two reads
        assert view["paid"] is True and view["stage"] == "confirmed"
        wait_for(lambda: graph.templates() == ["order_confirmation"])
        # No gateway API configured: a refund becomes a case for staff, never a pretended call.
        queue_refund(live, "shop-1001", {"amount_minor": "50000", "currency": "INR", "reason": "returned"})
        view = wait_for(lambda: client.get("/api/v1/orders/shop-1001").json()["escalations"] or None)
        assert [case["reason"] for case in view] == ["refund_by_hand"]
    assert graph.templates() == ["order_confirmation"]
