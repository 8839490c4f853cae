"""A whole order journey through the REST API, the pump and durable sending, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from orderwire.store.tables import jobs, messages
from tests.conftest import api, service_env, wait_for
from tests.support.graph_server import GraphServer
from tests.support.live import LiveService

ORDER: dict[str, Any] = {
    "order_id": "shop-1001",
    "number": "#1001",
    "currency": "INR",
    "customer": {"phone": "+91 98123 45678", "name": "Asha Rao", "language": "en"},
    "items": [{"name": "Cotton Kurta", "quantity": 2, "unit_price": 6172800}],
    "shipping_address": {"line1": "12 MG Road", "city": "Bengaluru", "pincode": "560001"},
    "expected_delivery_date": "2026-12-03",
}


def test_journey_sends_each_stage_once(database_url: str, graph: GraphServer) -> None:
    env = service_env(database_url, graph.url, "")
    with LiveService(env) as live, api(live.url) as client:
        assert client.post("/api/v1/orders", json=ORDER).status_code == 202
        events = [
            {"type": "paid", "payment_id": "pay_1"},
            {"type": "processing"},
            {"type": "dispatched", "awb": "AWB1", "courier": "Delhivery", "location": "Bengaluru"},
            {"type": "out_for_delivery", "awb": "AWB1", "window": "between 14:00 and 18:00"},
            {"type": "delivered", "awb": "AWB1"},
        ]
        wait_for(lambda: _stage(client, "placed", 0))
        for n, event in enumerate(events, start=1):
            assert client.post("/api/v1/orders/shop-1001/events", json=event).status_code == 202
            # Redelivery of the same body is recognised and changes nothing.
            again = client.post("/api/v1/orders/shop-1001/events", json=event)
            assert again.json()["duplicate"] is True
            wait_for(lambda n=n: len(graph.requests) >= n)
        view = wait_for(lambda: _stage(client, "delivered", 5))
        assert graph.templates() == [
            "order_confirmation",
            "order_processing",
            "order_dispatched",
            "order_out_for_delivery",
            "order_delivered",
        ]
        confirmation = graph.requests[0]
        assert confirmation.path == "/v23.0/106540352242922/messages"
        assert confirmation.authorization == "Bearer test-graph-token"
        body = confirmation.body
        assert body["to"] == "919812345678"
        assert body["template"]["language"] == {"code": "en"}
        params = [
            p["text"] for c in body["template"]["components"] if c["type"] == "body" for p in c["parameters"]
        ]
        assert params == [
            "Asha",
            "#1001",
            "2 × Cotton Kurta",
            "₹1,23,456.00",
            "12 MG Road, Bengaluru, 560001",
            "Thu, 3 Dec",
        ]
        dispatched = graph.requests[2].body["template"]["components"]
        url_button = next(c for c in dispatched if c["type"] == "button")
        token = view["tracking_url"].rsplit("/", 1)[1]
        assert url_button == {
            "type": "button",
            "sub_type": "url",
            "index": "0",
            "parameters": [{"type": "text", "text": token}],
        }
        assert len(token) >= 22  # >= 128 bits of randomness, URL-safe
        assert all(m["status"] == "accepted" for m in view["messages"])
        # The follow-up waits as a durable timer row, days away.
        with live.rt.engine.connect() as conn:  # type: ignore[union-attr]
            timer = conn.execute(sa.select(jobs).where(jobs.c.kind == "timer_fired")).one()
        assert timer.status == "pending"
        assert (timer.available_at - sa_now(live)).days >= 3
    assert len(graph.requests) == 5


def sa_now(live: LiveService) -> Any:
    return live.rt.clock()  # type: ignore[union-attr]


def _stage(client: Any, stage: str, sent: int) -> Any:
    view = client.get("/api/v1/orders/shop-1001").json()
    done = view.get("stage") == stage and all(m["status"] != "queued" for m in view.get("messages", []))
    return view if done and len(view["messages"]) == sent else None


def test_event_before_order_waits_for_it(database_url: str, graph: GraphServer) -> None:
    env = service_env(database_url, graph.url, "")
    with LiveService(env) as live, api(live.url) as client:
        client.post("/api/v1/orders/shop-1001/events", json={"type": "paid"}).raise_for_status()
        missing = client.get("/api/v1/orders/shop-1001")
        assert missing.status_code == 404
        assert "1 event(s) wait" in missing.json()["detail"]
        client.post("/api/v1/orders", json=ORDER).raise_for_status()
        wait_for(lambda: graph.templates() == ["order_confirmation"])
        view = client.get("/api/v1/orders/shop-1001").json()
        assert view["stage"] == "confirmed"
        assert [t["event"] for t in view["timeline"]] == ["order_placed", "payment_captured"]


def test_status_webhooks_update_messages(database_url: str, graph: GraphServer) -> None:
    import json

    from orderwire.integrations.whatsapp.fake import status_webhook
    from orderwire.integrations.whatsapp.webhook import signature_for
    from tests.conftest import TEST_APP_SECRET

    env = service_env(database_url, graph.url, "")
    with LiveService(env) as live, api(live.url) as client:
        client.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()
        wamid = wait_for(lambda: _wamid(live))
        for status in ("read", "delivered", "sent", "read"):  # out of order and twice
            body = json.dumps(status_webhook("1", wamid, "+919812345678", status, live.rt.clock())).encode()  # type: ignore[union-attr]
            answer = client.post(
                "/webhooks/whatsapp",
                content=body,
                headers={"X-Hub-Signature-256": signature_for(TEST_APP_SECRET, body)},
            )
            assert answer.status_code == 200
        view = client.get("/api/v1/orders/shop-1001").json()
        message = view["messages"][0]
        assert message["status"] == "read"
        assert sorted(s["status"] for s in message["statuses"]) == ["delivered", "read", "sent"]
        bad = client.post("/webhooks/whatsapp", content=body, headers={"X-Hub-Signature-256": "sha256=00"})
        assert bad.status_code == 401


def _wamid(live: LiveService) -> str | None:
    with live.rt.engine.connect() as conn:  # type: ignore[union-attr]
        return conn.execute(sa.select(messages.c.wamid).where(messages.c.wamid.is_not(None))).scalar()
