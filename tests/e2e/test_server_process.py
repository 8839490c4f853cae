"""The real `orderwire serve` process: a whole journey, checked at the exact Cloud API requests."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from orderwire.domain.messages import format_day
from orderwire.integrations.whatsapp.fake import status_webhook
from orderwire.integrations.whatsapp.webhook import signature_for
from tests.conftest import TEST_API_KEY, TEST_APP_SECRET, api, free_port, service_env, wait_for
from tests.support.graph_server import GraphServer

ORDERWIRE = str(Path(sys.executable).with_name("orderwire"))


def start(env: dict[str, str], port: int, *extra: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [ORDERWIRE, "serve", "--port", str(port), *extra],
        env={k: v for k, v in os.environ.items() if not k.startswith("ORDERWIRE_")} | env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )

    def healthy() -> bool:
        if process.poll() is not None:
            raise AssertionError(process.stdout.read().decode() if process.stdout else "exited")
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(healthy, timeout=60, interval=0.2)
    return process


@pytest.fixture
def server(tmp_path: Path, graph: GraphServer) -> Iterator[tuple[str, str]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    database_url = f"sqlite:///{tmp_path}/orderwire.db"
    # commerce: this journey's COD order is confirmed at placement, as before COD confirmation existed
    # (the customer's confirmation on WhatsApp is tested in tests/integration/test_commerce.py).
    env = service_env(database_url, graph.url, url) | {"ORDERWIRE_COD_CONFIRMATION": "false"}
    process = start(env, port)
    yield url, database_url
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def body_params(request: Any) -> list[str]:
    return [
        p["text"]
        for c in request.body["template"]["components"]
        if c["type"] == "body"
        for p in c["parameters"]
    ]


def test_whole_journey_exact_cloud_api_requests(server: tuple[str, str], graph: GraphServer) -> None:
    url, database_url = server
    # The journey starts now, as the real service sees it: with fixed dates, once the delivery lay more
    # than the follow-up delay in the past, the follow-up went out at once (found on 2026-12-07).
    t0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    edd = (t0 + timedelta(days=6)).date()
    edd_in_hindi = format_day(edd, "hi")  # e.g. "शुक्र, 4 दिस॰" (the format: tests/unit/test_messages.py)
    order = {
        "order_id": "WEB-7731",
        "number": "#7731",
        "currency": "INR",
        "customer": {"phone": "09876543210", "name": "Ravi Kumar", "language": "hi"},
        "items": [{"name": "Steel Tiffin Box", "quantity": 1, "unit_price": 129900}],
        "shipping_address": {"line1": "4 Park Street", "city": "Kolkata", "pincode": "700016"},
        "payment_method": "cod",
        "expected_delivery_date": edd.isoformat(),
    }

    def at(hours: float) -> str:
        return (t0 + timedelta(hours=hours)).isoformat()

    with api(url) as client:
        assert client.get("/api/v1/orders/WEB-7731").status_code == 404
        assert client.post("/api/v1/orders", json=order).status_code == 202
        wait_for(lambda: len(graph.requests) == 1)
        steps = [
            {"type": "dispatched", "awb": "SR123", "courier": "Xpressbees", "occurred_at": at(1)},
            {"type": "out_for_delivery", "awb": "SR123", "occurred_at": at(24)},
            {"type": "delivery_failed", "awb": "SR123", "reason": "address not found", "occurred_at": at(30)},
            {
                "type": "out_for_delivery",
                "awb": "SR123",
                "agent_phone": "+919800000001",
                "occurred_at": at(48),
            },
            {"type": "delivered", "awb": "SR123", "occurred_at": at(50)},
        ]
        for n, step in enumerate(steps, start=2):
            assert client.post("/api/v1/orders/WEB-7731/events", json=step).status_code == 202
            wait_for(lambda n=n: len(graph.requests) == n)
        # Four days pass: the follow-up timer is a row with a due time; bring it forward.
        engine = sa.create_engine(database_url)
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE jobs SET available_at = '2000-01-01 00:00:00' WHERE kind = 'timer_fired'")
            )
        engine.dispose()
        wait_for(lambda: len(graph.requests) == 7)
        view = client.get("/api/v1/orders/WEB-7731").json()

    assert graph.templates() == [
        "order_confirmation",
        "order_dispatched",
        "order_out_for_delivery",
        "order_delivery_failed",
        "order_out_for_delivery",
        "order_delivered",
        "order_follow_up",
    ]
    token = view["tracking_url"].rsplit("/", 1)[1]
    confirmation, dispatched, _, failed, second_ofd, _, follow_up = graph.requests
    assert all(r.path == "/v23.0/106540352242922/messages" for r in graph.requests)
    assert all(r.authorization == "Bearer test-graph-token" for r in graph.requests)
    assert confirmation.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "919876543210",
        "type": "template",
        "template": {
            "name": "order_confirmation",
            "language": {"code": "hi"},
            "components": [
                {"type": "header", "parameters": [{"type": "text", "text": "#7731"}]},
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": t}
                        for t in [
                            "Ravi",
                            "#7731",
                            "1 × Steel Tiffin Box",
                            "₹1,299.00",
                            "4 Park Street, Kolkata, 700016",
                            edd_in_hindi,
                        ]
                    ],
                },
            ],
        },
    }
    assert body_params(dispatched) == ["#7731", "Xpressbees", "SR123", edd_in_hindi]
    assert dispatched.body["template"]["components"][-1]["parameters"] == [{"type": "text", "text": token}]
    assert body_params(failed) == ["#7731", "address not found"]
    assert [c["parameters"][0]["payload"] for c in failed.body["template"]["components"][1:]] == [
        "ndr:reschedule:SR123",
        "ndr:change_address:SR123",
        "ndr:return:SR123",
    ]
    assert body_params(second_ofd)[2] == "डिलीवरी एजेंट का नंबर: +919800000001"
    assert body_params(follow_up) == ["Ravi", "Steel Tiffin Box", "#7731"]
    assert view["stage"] == "followed_up"
    assert view["shipments"][0]["failed_attempts"] == [at(30)]


def test_webhook_handshake_and_signed_statuses(server: tuple[str, str], graph: GraphServer) -> None:
    url, _ = server
    params = {"hub.mode": "subscribe", "hub.verify_token": "test-verify-token", "hub.challenge": "8731"}
    answer = httpx.get(f"{url}/webhooks/whatsapp", params=params)
    assert (answer.status_code, answer.text) == (200, "8731")
    params["hub.verify_token"] = "wrong"
    assert httpx.get(f"{url}/webhooks/whatsapp", params=params).status_code == 403
    raw = json.dumps(
        status_webhook("1", "wamid.unknown", "+919876543210", "sent", datetime.now(UTC))
    ).encode()
    signed = {"X-Hub-Signature-256": signature_for(TEST_APP_SECRET, raw), "content-type": "application/json"}
    assert httpx.post(f"{url}/webhooks/whatsapp", content=raw, headers=signed).status_code == 200
    assert (
        httpx.post(
            f"{url}/webhooks/whatsapp",
            content=b"not json",
            headers={"X-Hub-Signature-256": signature_for(TEST_APP_SECRET, b"not json")},
        ).status_code
        == 400
    )
    assert httpx.post(f"{url}/webhooks/whatsapp", content=raw).status_code == 401
    # The API refuses anonymous callers and malformed orders with a reason.
    assert httpx.get(f"{url}/api/v1/orders/x").status_code == 401
    with api(url) as client:
        bad = client.post("/api/v1/orders", json={"order_id": "x", "currency": "INR"})
        assert bad.status_code == 422
        phone = client.post(
            "/api/v1/orders",
            json={
                "order_id": "x",
                "currency": "INR",
                "customer": {"phone": "12"},
                "items": [{"name": "a", "quantity": 1, "unit_price": 1}],
                "shipping_address": {"line1": "a", "city": "b", "pincode": "560001"},
            },
        )
        assert phone.status_code == 422 and "phone" in phone.text
    assert TEST_API_KEY not in httpx.get(f"{url}/openapi.json").text


def test_make_run_demo_completes(tmp_path: Path) -> None:
    """What `make run` does, in sandbox mode: the demo drives three orders to the follow-up."""
    port = free_port()
    env = {
        "ORDERWIRE_DATABASE_URL": f"sqlite:///{tmp_path}/demo.db",
        "ORDERWIRE_API_KEY": TEST_API_KEY,
        "ORDERWIRE_QUIET_HOURS_START": "0",
        "ORDERWIRE_QUIET_HOURS_END": "0",
    }
    process = start(env, port, "--demo", "--demo-pause", "0.4")
    try:
        engine = sa.create_engine(f"sqlite:///{tmp_path}/demo.db")

        def followed_up() -> bool:
            with engine.connect() as conn:
                stages = conn.execute(sa.text("SELECT stage FROM orders")).scalars().all()
                # The last follow-up is sent a moment after its order reaches the stage.
                in_flight = conn.execute(
                    sa.text(
                        "SELECT COUNT(*) FROM messages WHERE status IN ('scheduled', 'queued', 'retrying')"
                    )
                ).scalar_one()
            return len(stages) == 3 and set(stages) == {"followed_up"} and in_flight == 0

        wait_for(followed_up, timeout=90, interval=0.5)
        with engine.connect() as conn:
            sent = conn.execute(
                sa.text(
                    "SELECT o.order_id, m.kind FROM messages m JOIN orders o ON o.id = m.order_pk"
                    " WHERE m.status IN ('accepted', 'sent', 'delivered', 'read')"
                )
            ).all()
            failed = conn.execute(
                sa.text("SELECT COUNT(*) FROM messages WHERE status IN ('failed', 'held')")
            ).scalar_one()
            # commerce: the demo's COD customer taps "Confirm order" (an inbound message on the phone).
            on_phone = conn.execute(
                sa.text("SELECT COUNT(*) FROM sandbox_messages WHERE direction = 'out'")
            ).scalar_one()
        engine.dispose()
        kinds: dict[str, set[str]] = {}
        for order_id, kind in sent:
            kinds.setdefault(order_id, set()).add(kind)
        journey = {"confirmation", "dispatched", "out_for_delivery", "delivered", "follow_up"}
        assert len(kinds) == 3 and all(journey <= k for k in kinds.values()), kinds
        assert sum("delivery_failed" in k for k in kinds.values()) == 1
        assert failed == 0 and on_phone == len(sent)
        page = httpx.get(f"http://127.0.0.1:{port}/sandbox")
        assert page.status_code == 200 and "Ravi Kumar" in page.text
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_an_idle_connection_outlives_the_clients_pool(server: tuple[str, str]) -> None:
    """The server keeps an idle keep-alive connection past the 5 s a client's pool (httpx) keeps it, so a
    client never sends a webhook on a connection the server is closing at that moment."""
    url, _ = server
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request("GET", "/healthz")
        first = conn.getresponse()
        assert first.status == 200 and first.read()
        used = conn.sock
        time.sleep(6.5)  # uvicorn's default keep-alive (5 s) would have closed it by now
        conn.request("GET", "/healthz")  # on a closed connection: RemoteDisconnected
        assert conn.getresponse().status == 200
        assert conn.sock is used  # the same connection, not a new one
    finally:
        conn.close()


def test_the_worker_process_gives_way_to_the_web_process(tmp_path: Path, graph: GraphServer) -> None:
    port = free_port()
    env = service_env(f"sqlite:///{tmp_path}/orderwire.db", graph.url, f"http://127.0.0.1:{port}")
    process = start(env | {"ORDERWIRE_WORKER_NICENESS": "7"}, port)
    try:
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        workers = wait_for(lambda: [int(pid) for pid in children.read_text().split()])
        web = os.getpriority(os.PRIO_PROCESS, process.pid)
        assert [os.getpriority(os.PRIO_PROCESS, pid) for pid in workers] == [min(19, web + 7)]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
