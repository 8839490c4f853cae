"""Courier webhooks through the real service: a Shiprocket journey, parking, auth, each vendor's route."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from orderwire.domain.messages import format_day
from orderwire.integrations.aftership.webhook import signature_for as aftership_signature
from orderwire.store.tables import inbound, jobs
from tests.conftest import api, service_env, wait_for
from tests.integration.test_journey import ORDER
from tests.support.couriers import fixture_bytes, shiprocket_scan, shiprocket_webhook
from tests.support.graph_server import GraphServer
from tests.support.live import LiveService
from tests.support.timeline import FIXTURE_DAY, day

SHIPROCKET_TOKEN = "sr-webhook-token"
# EasyPost's own test vector for its fixture body (official/fixtures/client-library-fixtures.json).
EASYPOST_SIGNATURE = "hmac-sha256-hex=38f3f53c103713df81616a0a186d77141957323ec21d5fe9363db93840f527db"
# The couriers' first scan: the fixtures' order day at 09:00 (India time, as Shiprocket writes it), moved
# next to the present like the fixtures (tests/support/timeline.py).
DAY0 = datetime.combine(day(FIXTURE_DAY), time(9))


def _etd(days: int) -> str:
    """Shiprocket's `etd` (its local time), `days` after DAY0 at 18:00."""
    return (DAY0 + timedelta(days=days)).strftime("%Y-%m-%d 18:00:00")


def courier_env(database_url: str, graph: GraphServer) -> dict[str, str]:
    return {
        **service_env(database_url, graph.url, ""),
        "ORDERWIRE_SHIPROCKET_WEBHOOK_TOKEN": SHIPROCKET_TOKEN,
        "ORDERWIRE_DELHIVERY_WEBHOOK_TOKEN": "dl-token",
        "ORDERWIRE_EASYPOST_WEBHOOK_SECRET": "s\u00e9cret",  # EasyPost's own test secret
    }


def post_shiprocket(client: httpx.Client, body: dict[str, Any], path: str = "courier-a") -> httpx.Response:
    raw = json.dumps(body).encode()
    return client.post(f"/webhooks/{path}", content=raw, headers={"x-api-key": SHIPROCKET_TOKEN})


def test_shiprocket_journey(database_url: str, graph: GraphServer) -> None:
    scans = [
        shiprocket_scan(27, "PICKUP BOOKED", DAY0),
        shiprocket_scan(42, "PICKED UP", DAY0 + timedelta(hours=4), "Peenya, Bengaluru"),
        shiprocket_scan(22, "DELAYED", DAY0 + timedelta(hours=30), "Hosur"),
        shiprocket_scan(17, "OUT FOR DELIVERY", DAY0 + timedelta(hours=72), "Indiranagar"),
        shiprocket_scan(7, "DELIVERED", DAY0 + timedelta(hours=75), "Indiranagar"),
    ]
    etds = [_etd(3), _etd(3), _etd(5), "", ""]
    promised = (DAY0 + timedelta(days=3)).date().isoformat()  # the shop's EDD: the day of the first etd
    expected = [
        ["order_confirmation"],
        ["order_confirmation"],  # pickup booked: nothing to say yet
        ["order_confirmation", "order_dispatched"],
        ["order_confirmation", "order_dispatched", "order_delayed"],
        ["order_confirmation", "order_dispatched", "order_delayed", "order_out_for_delivery"],
        [
            "order_confirmation",
            "order_dispatched",
            "order_delayed",
            "order_out_for_delivery",
            "order_delivered",
        ],
    ]
    with LiveService(courier_env(database_url, graph)) as live, api(live.url) as client:
        order = {**ORDER, "paid": True, "expected_delivery_date": promised}
        client.post("/api/v1/orders", json=order).raise_for_status()
        wait_for(lambda: graph.templates() == expected[0])
        for k in range(len(scans)):
            body = shiprocket_webhook("SR100", scans[: k + 1], "shop-1001", etds[k])
            assert post_shiprocket(client, body).status_code == 200
            wait_for(lambda k=k: graph.templates() == expected[k + 1] and _settled(client))
            # Shiprocket retries what it thinks failed: the same body again changes nothing.
            assert post_shiprocket(client, body).status_code == 200
        view = client.get("/api/v1/orders/shop-1001").json()
        assert view["stage"] == "delivered"
        (shipment,) = view["shipments"]
        assert shipment["courier"] == "Delhivery Surface" and shipment["status"] == "delivered"
        assert len(shipment["scans"]) == 5 and shipment["scans"][-1]["location"] == "Indiranagar"
        delayed = graph.requests[2].body["template"]["components"]
        later = format_day((DAY0 + timedelta(days=5)).date(), "en")
        assert delayed[0]["parameters"][1]["text"] == later  # e.g. "Sat, 5 Dec"
        page = client.get(view["tracking_url"].removeprefix(live.url))
        assert "Indiranagar" in page.text
    assert graph.templates() == expected[-1]
    with live.rt.engine.connect() as conn:  # type: ignore[union-attr]
        stored = conn.execute(sa.select(sa.func.count()).select_from(inbound)).scalar_one()
    assert stored == 1 + len(scans)  # the order and each webhook once


def _settled(client: httpx.Client) -> bool:
    view = client.get("/api/v1/orders/shop-1001").json()
    return all(m["status"] not in ("scheduled", "queued") for m in view.get("messages", []))


def test_parking_auth_and_unknown_statuses(database_url: str, graph: GraphServer) -> None:
    early = shiprocket_webhook("SR200", [shiprocket_scan(42, "PICKED UP", DAY0)], order_id="shop-1001")
    by_awb_only = shiprocket_webhook("SR201", [shiprocket_scan(18, "IN TRANSIT", DAY0 + timedelta(hours=5))])
    with LiveService(courier_env(database_url, graph)) as live, api(live.url) as client:
        # Before the order exists: stored, acknowledged, and waiting for it under its channel order id.
        assert post_shiprocket(client, early, path="shiprocket").status_code == 200
        waiting = client.get("/api/v1/orders/shop-1001")
        assert waiting.status_code == 404 and "1 event(s) wait" in waiting.json()["detail"]
        client.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()
        wait_for(lambda: graph.templates() == ["order_confirmation", "order_dispatched"])
        # Known by AWB only: it waits until a dispatch naming that AWB reaches the order.
        assert post_shiprocket(client, by_awb_only).status_code == 200
        dispatched = {"type": "dispatched", "awb": "SR201", "occurred_at": f"{DAY0:%Y-%m-%d}T10:00:00+05:30"}
        client.post("/api/v1/orders/shop-1001/events", json=dispatched).raise_for_status()
        wait_for(lambda: _status(client, "SR201") == "in_transit")
        wait_for(lambda: graph.templates() == ["order_confirmation", "order_dispatched", "order_dispatched"])
        # A status nobody documented: stored and acknowledged, shown, and nothing else.
        odd = shiprocket_webhook("SR200", [shiprocket_scan(99, "HELD BY ALIENS", DAY0 + timedelta(hours=9))])
        assert post_shiprocket(client, odd).status_code == 200
        view = wait_for(lambda: _with_note(client, "not understood"))
        assert _status(client, "SR200") == "dispatched"
        (sr200,) = (s for s in view["shipments"] if s["awb"] == "SR200")
        assert any(scan["raw_status"] == "HELD BY ALIENS (99)" for scan in sr200["scans"])
        sent = len(graph.requests)
        # Refused: a wrong token, no token, an unconfigured vendor, an unknown one, a body not JSON.
        raw = json.dumps(early).encode()
        assert (
            client.post("/webhooks/courier-a", content=raw, headers={"x-api-key": "nope"}).status_code == 401
        )
        assert client.post("/webhooks/courier-a", content=raw).status_code == 401
        assert client.post("/webhooks/aftership", content=raw).status_code == 401  # no secret set
        assert client.post("/webhooks/fedex", content=raw).status_code == 404
        bad = client.post("/webhooks/courier-a", content=b"<xml/>", headers={"x-api-key": SHIPROCKET_TOKEN})
        assert bad.status_code == 400 and "not JSON" in bad.json()["detail"]
        assert len(graph.requests) == sent == 3  # nothing more than the three above
    with live.rt.engine.connect() as conn:  # type: ignore[union-attr]
        assert (
            conn.execute(
                sa.select(sa.func.count()).select_from(jobs).where(jobs.c.status == "parked")
            ).scalar()
            == 0
        )


def _status(client: httpx.Client, awb: str) -> str:
    view = client.get("/api/v1/orders/shop-1001").json()
    return next((s["status"] for s in view.get("shipments", []) if s["awb"] == awb), "")


def _with_note(client: httpx.Client, words: str) -> Any:
    view = client.get("/api/v1/orders/shop-1001").json()
    return view if any(words in t["note"] for t in view.get("timeline", [])) else None


def test_each_vendor_through_the_route(database_url: str, graph: GraphServer) -> None:
    env = {**courier_env(database_url, graph), "ORDERWIRE_AFTERSHIP_WEBHOOK_SECRET": "as-secret"}
    aftership = fixture_bytes("aftership", "tracking_update.json")
    easypost = fixture_bytes("easypost", "tracker_updated.json")
    delhivery = fixture_bytes("delhivery", "scan_push.json")
    with LiveService(env) as live, httpx.Client(base_url=live.url, timeout=10) as client:
        good = [
            ("aftership", aftership, {"aftership-hmac-sha256": aftership_signature("as-secret", aftership)}),
            ("easypost", easypost, {"X-Hmac-Signature": EASYPOST_SIGNATURE}),
            ("delhivery", delhivery, {"Authorization": "Bearer dl-token"}),
        ]
        for vendor, raw, headers in good:
            assert client.post(f"/webhooks/{vendor}", content=raw, headers=headers).status_code == 200, vendor
            assert client.post(f"/webhooks/{vendor}", content=raw + b" ", headers=headers).status_code in (
                401,  # signed vendors: the bytes changed
                200,  # Delhivery's token does not cover the body; the new bytes are a new delivery
            )
            assert client.post(f"/webhooks/{vendor}", content=raw, headers={}).status_code == 401
        pending = client.post(
            "/webhooks/aftership",
            content=(body := fixture_bytes("aftership", "tracking_pending_time.json")),
            headers={"aftership-hmac-sha256": aftership_signature("as-secret", body)},
        )
        assert pending.status_code == 200
    with live.rt.engine.connect() as conn:  # type: ignore[union-attr]
        rows = conn.execute(sa.select(inbound.c.source, inbound.c.topic, inbound.c.note)).all()
        events = conn.execute(sa.select(sa.func.count()).select_from(jobs)).scalar_one()
    assert sorted((r.source, r.topic) for r in rows) == [
        ("aftership", "tracking_pending_time"),
        ("aftership", "tracking_update"),
        ("delhivery", "scan"),
        ("delhivery", "scan"),
        ("easypost", "tracker.updated"),
    ]
    assert any(r.note == "tracking_pending_time: not used" for r in rows)
    assert events == 1 + 7 + 2  # AfterShip's checkpoint, EasyPost's details, Delhivery's scan (twice)
