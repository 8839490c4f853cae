"""Outbound lifecycle webhooks and HubSpot notes through the real service, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import sqlalchemy as sa

from orderwire.app import escalations
from orderwire.store.tables import orders, webhook_deliveries
from tests.conftest import api, service_env, wait_for
from tests.integration.test_journey import ORDER
from tests.support.graph_server import GraphServer
from tests.support.hubspot_server import TOKEN, HubSpotServer
from tests.support.live import LiveService
from tests.support.outbound_receiver import Receiver

SECRET = "whsec_" + base64.b64encode(b"orderwire-outbound-test-key-32by").decode()
DISPATCHED = {"type": "dispatched", "awb": "AWB1", "courier": "Delhivery", "location": "Bengaluru"}
DELIVERED = {"type": "delivered", "awb": "AWB1"}
EVENTS = "/api/v1/orders/shop-1001/events"


def outbound_env(database_url: str, graph: GraphServer, urls: str = "", **extra: str) -> dict[str, str]:
    env = {
        **service_env(database_url, graph.url, ""),
        "ORDERWIRE_OUTBOUND_WEBHOOK_URLS": urls,
        "ORDERWIRE_OUTBOUND_WEBHOOK_SECRET": SECRET,
        "ORDERWIRE_OUTBOUND_RETRY_BASE_SECONDS": "0.05",
    }
    return env | {f"ORDERWIRE_{k.upper()}": v for k, v in extra.items()}


def _deliveries(client: httpx.Client, status: str = "") -> list[dict[str, Any]]:
    answer = client.get("/api/v1/webhook-deliveries", params={"status": status} if status else {})
    answer.raise_for_status()
    rows: list[dict[str, Any]] = answer.json()
    return rows


def _timeline(client: httpx.Client) -> int:
    return len(client.get("/api/v1/orders/shop-1001").json().get("timeline", []))


def test_journey_sends_signed_events_once_each(database_url: str, graph: GraphServer) -> None:
    with (
        Receiver() as rx,
        LiveService(outbound_env(database_url, graph, rx.url)) as live,
        api(live.url) as client,
    ):
        client.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()
        wait_for(lambda: rx.types() == ["order.confirmed"])
        for event in (DISPATCHED, DELIVERED):
            client.post(EVENTS, json=event).raise_for_status()
            assert client.post(EVENTS, json=event).json()["duplicate"] is True  # the same body again
        expected = ["order.confirmed", "shipment.dispatched", "shipment.delivered"]
        wait_for(lambda: rx.types() == expected)
        # The courier says "delivered" again under a new event id: applied as a duplicate, nothing emitted.
        seen = _timeline(client)
        client.post(EVENTS, json={**DELIVERED, "event_id": "courier-retry-7"}).raise_for_status()
        wait_for(lambda: _timeline(client) == seen + 1)
        time.sleep(0.3)
        assert rx.types() == expected and len(rx.hits) == 3
        log = _deliveries(client)
    assert rx.verified(SECRET)
    assert len({h.webhook_id for h in rx.hits}) == 3
    assert {(d["event_type"], d["status"], d["attempts"]) for d in log} == {
        (t, "delivered", 1) for t in expected
    }
    assert {d["msg_id"] for d in log} == {h.webhook_id for h in rx.hits}
    dispatched = rx.hits[1]
    assert dispatched.headers["content-type"] == "application/json"
    body = dispatched.json
    assert list(body) == ["type", "timestamp", "data"]
    data = body["data"]
    assert (data["order_id"], data["order_number"], data["stage"]) == ("shop-1001", "#1001", "dispatched")
    assert data["shipment"]["awb"] == "AWB1" and data["shipment"]["courier"] == "Delhivery"
    assert data["customer"]["phone"] == "+919812345678" and data["customer"]["name"] == "Asha Rao"
    assert "12 MG Road" not in dispatched.body.decode()  # no street address leaves the service


def test_a_failing_receiver_gets_the_same_event_again_until_it_answers(
    database_url: str, graph: GraphServer
) -> None:
    with (
        Receiver() as rx,
        LiveService(outbound_env(database_url, graph, rx.url)) as live,
        api(live.url) as client,
    ):
        rx.answer_next(500, times=2)
        client.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()
        wait_for(lambda: [d["status"] for d in _deliveries(client)] == ["delivered"])
        time.sleep(0.5)
        (row,) = _deliveries(client)
    assert [h.status for h in rx.hits] == [500, 500, 200]  # exactly once more after the failures
    assert len({h.webhook_id for h in rx.hits}) == 1 and rx.hits[0].webhook_id == row["msg_id"]
    assert len({h.body for h in rx.hits}) == 1  # the same bytes, signed afresh per attempt
    assert rx.verified(SECRET)
    assert (row["attempts"], row["last_status_code"]) == (3, 200)


def test_a_dead_endpoint_fails_after_the_limit_and_a_refusal_at_once(
    database_url: str, graph: GraphServer
) -> None:
    with Receiver(default=503) as down, Receiver(default=400) as refusing:
        env = outbound_env(
            database_url, graph, f"{down.url},{refusing.url}?token=abc", outbound_max_attempts="3"
        )
        with LiveService(env) as live, api(live.url) as client:
            client.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()
            wait_for(lambda: len(_deliveries(client, "failed")) == 2)
            time.sleep(0.6)  # nothing loops on: no further attempts
            assert (len(down.hits), len(refusing.hits)) == (3, 1)
            failed = {d["endpoint"]: d for d in _deliveries(client, "failed")}
            assert failed[down.url]["attempts"] == 3 and "gave up after 3" in failed[down.url]["last_error"]
            refused = failed[refusing.url]  # shown without its query string (it may hold a token)
            assert refused["attempts"] == 1 and refused["last_status_code"] == 400
            view = client.get("/api/v1/orders/shop-1001").json()
            notes = [t["note"] for t in view["timeline"] if t["event"] == "outbound"]
            assert len(notes) == 2 and all("order.confirmed" in n for n in notes)
            assert not any("abc" in n for n in notes)
            assert _deliveries(client, "pending") == []
            # Fixed on their side: staff send it again, under the same webhook-id.
            refusing.default = 200
            assert client.post(f"/api/v1/webhook-deliveries/{refused['id']}/retry").status_code == 204
            wait_for(lambda: len(refusing.hits) == 2 and refusing.hits[1].status == 200)
            assert refusing.hits[0].webhook_id == refusing.hits[1].webhook_id
            assert client.post(f"/api/v1/webhook-deliveries/{refused['id']}/retry").status_code == 404
            assert client.get("/api/v1/webhook-deliveries", params={"status": "lost"}).status_code == 422
            assert httpx.get(f"{live.url}/api/v1/webhook-deliveries").status_code == 401


def test_hubspot_contact_is_created_once_and_each_event_is_a_note(
    database_url: str, graph: GraphServer
) -> None:
    # Search lags far behind writes here: only the remembered contact id prevents a second contact.
    with HubSpotServer(search_lag=600) as hubspot:
        env = outbound_env(database_url, graph, hubspot_api_url=hubspot.url, hubspot_token=TOKEN)
        hubspot.fail_next(429, headers={"Retry-After": "1"})
        with LiveService(env) as live, api(live.url) as client:
            client.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()
            wait_for(lambda: len(hubspot.notes) == 1)
            for event in (DISPATCHED, DELIVERED):
                client.post(EVENTS, json=event).raise_for_status()
            second = {**ORDER, "order_id": "shop-1002", "number": "#1002", "paid": True}
            client.post("/api/v1/orders", json=second).raise_for_status()
            wait_for(lambda: len(hubspot.notes) == 4)
            # HubSpot holds the fourth note a moment before the service records its answer.
            wait_for(lambda: not _deliveries(client, "pending"))
            log = _deliveries(client)
    assert hubspot.count("POST", "/crm/v3/objects/contacts/search") == 1
    created = [c for c in hubspot.calls if c.path == "/crm/v3/objects/contacts" and c.status == 201]
    assert len(created) == 1 and created[0].body == {
        "properties": {"phone": "+919812345678", "firstname": "Asha", "lastname": "Rao"}
    }
    (contact_id,) = hubspot.contacts
    for note in hubspot.notes:
        assert note["associations"] == [
            {
                "to": {"id": contact_id},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}],
            }
        ]
    bodies = sorted(n["properties"]["hs_note_body"] for n in hubspot.notes)
    assert bodies == [
        "Orderwire: Order #1001 confirmed (123456.00 INR).",
        "Orderwire: Order #1001 delivered (AWB AWB1, Delhivery).",
        "Orderwire: Order #1001 dispatched (AWB AWB1, Delhivery).",
        "Orderwire: Order #1002 confirmed (123456.00 INR).",
    ]
    assert all(d["status"] == "delivered" and d["endpoint"] == "hubspot" for d in log)
    first = min(log, key=lambda d: d["id"])
    assert first["attempts"] == 2  # the 429, honoured, then the call


def test_an_opened_escalation_is_an_event(database_url: str, graph: GraphServer) -> None:
    with (
        Receiver() as rx,
        LiveService(outbound_env(database_url, graph, rx.url)) as live,
        api(live.url) as client,
    ):
        client.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()
        client.post(EVENTS, json=DISPATCHED).raise_for_status()
        wait_for(lambda: len(rx.types()) == 2)
        rt = live.rt
        assert rt is not None
        now = rt.clock()
        with rt.engine.begin() as conn:
            order_pk = conn.execute(
                sa.select(orders.c.id).where(orders.c.order_id == "shop-1001")
            ).scalar_one()
            for _ in range(2):  # the same case twice: opened once, told once
                escalations.open_case(conn, rt, order_pk, "AWB1", "no_answer", "case-1", {}, now)
        wait_for(lambda: "escalation.opened" in rx.types())
        time.sleep(0.3)
        with rt.engine.connect() as conn:
            count = conn.execute(sa.select(sa.func.count()).select_from(webhook_deliveries)).scalar_one()
    assert rx.types() == ["order.confirmed", "shipment.dispatched", "escalation.opened"] and count == 3
    event = json.loads(rx.hits[-1].body)
    assert event["data"]["escalation"] == {"reason": "no_answer", "awb": "AWB1"}
    assert event["data"]["shipment"]["awb"] == "AWB1"


def test_migration_0007_up_and_down(database_url: str) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from orderwire.store.db import alembic_config, make_engine, migrate
    from orderwire.store.tables import metadata

    mine = ("webhook_deliveries", "crm_contacts")
    migrate(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        assert [d for d in diffs if any(t in repr(d) for t in mine)] == []
        command.downgrade(alembic_config(database_url), "0005")
        with engine.connect() as conn:
            assert not set(mine) & set(sa.inspect(conn).get_table_names())
        command.upgrade(alembic_config(database_url), "head")
        with engine.connect() as conn:
            assert set(mine) <= set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()
