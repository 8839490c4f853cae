"""Polling Shiprocket's track-by-AWB API for quiet parcels: the live service, backoff, giving up, re-login."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from orderwire.app import poll_schedule
from orderwire.app.runtime import Runtime
from orderwire.app.tracking_poll import poll_due
from orderwire.bootstrap import build_runtime
from orderwire.domain.model import Shipment, ShipmentStatus
from orderwire.integrations.base import IST
from orderwire.integrations.shiprocket.api import ShiprocketApi
from orderwire.integrations.shiprocket.scans import SCAN_TIME
from orderwire.settings import Settings
from orderwire.store.tables import jobs
from tests.conftest import api, service_env, wait_for
from tests.integration.test_journey import ORDER
from tests.support.couriers import fixture
from tests.support.graph_server import GraphServer
from tests.support.live import LiveService
from tests.support.shiprocket_server import EMAIL, PASSWORD, ShiprocketServer


def tracking_of(awb: str) -> dict[str, Any]:
    """Shiprocket's documented answer (a parcel delivered), for our AWB, moved to the last few hours."""
    data = copy.deepcopy(fixture("shiprocket", "track_awb.json"))
    data["tracking_data"]["shipment_track"][0]["awb_code"] = awb
    scans = data["tracking_data"]["shipment_track_activities"]
    delivered = datetime.strptime(scans[0]["date"], SCAN_TIME)
    shift = datetime.now(IST).replace(tzinfo=None) - timedelta(hours=1) - delivered
    for scan in scans:
        scan["date"] = (datetime.strptime(scan["date"], SCAN_TIME) + shift).strftime(SCAN_TIME)
    return data


def poll_row(rt: Runtime, awb: str) -> Any:
    with rt.engine.connect() as conn:
        return conn.execute(sa.select(jobs).where(jobs.c.dedupe_key == f"poll:{awb}")).first()


def test_a_quiet_parcel_is_polled_until_delivered(database_url: str, graph: GraphServer) -> None:
    with ShiprocketServer() as sr:
        sr.tracking["SR300"] = tracking_of("SR300")
        env = {
            **service_env(database_url, graph.url, ""),
            "ORDERWIRE_SHIPROCKET_API_URL": sr.url,
            "ORDERWIRE_SHIPROCKET_API_EMAIL": EMAIL,
            "ORDERWIRE_SHIPROCKET_API_PASSWORD": PASSWORD,
            "ORDERWIRE_TRACKING_POLL_AFTER_SECONDS": "1",
            "ORDERWIRE_TRACKING_POLL_EVERY_SECONDS": "0.2",
        }
        with LiveService(env) as live, api(live.url) as client:
            client.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()
            dispatched = {"type": "dispatched", "awb": "SR300", "courier": "Xpressbees"}
            client.post("/api/v1/orders/shop-1001/events", json=dispatched).raise_for_status()
            wait_for(
                lambda: graph.templates() == ["order_confirmation", "order_dispatched", "order_delivered"]
            )
            view = client.get("/api/v1/orders/shop-1001").json()
            assert view["stage"] == "delivered"
            assert wait_for(lambda: poll_row(live.rt, "SR300").status == "done")  # type: ignore[arg-type]
        assert sr.tracked == ["SR300"] and sr.logins == 1


def test_backoff_give_up_and_revive(database_url: str, tmp_path: Path) -> None:
    clock = [datetime(2026, 11, 30, 6, 0, tzinfo=UTC)]
    with ShiprocketServer() as sr:
        settings = Settings(
            database_url=database_url,
            shiprocket_api_url=sr.url,
            shiprocket_api_email=EMAIL,
            shiprocket_api_password=PASSWORD,
            tracking_poll_after_seconds=3600,
            tracking_poll_max_attempts=4,
        )
        rt = build_runtime(settings, clock=lambda: clock[0])
        client = ShiprocketApi(sr.url, EMAIL, PASSWORD, clock=rt.clock)
        moving = Shipment("SR400", status=ShipmentStatus.IN_TRANSIT)
        with rt.engine.begin() as conn:
            poll_schedule.watch(conn, rt, moving, clock[0])
        assert poll_due(rt, client) == 0  # not quiet long enough yet
        waits = []
        for _ in range(4):
            clock[0] = poll_row(rt, "SR400").available_at
            assert poll_due(rt, client) == 1
            row = poll_row(rt, "SR400")
            waits.append(row.available_at - clock[0])
        assert waits[:3] == [timedelta(hours=2), timedelta(hours=4), timedelta(hours=8)]
        assert row.status == "done" and row.attempts == 4 and row.last_error == "no activity yet"
        clock[0] += timedelta(days=2)
        assert poll_due(rt, client) == 0 and len(sr.tracked) == 4
        # Courier news revives it with a fresh count; a final status closes it.
        with rt.engine.begin() as conn:
            poll_schedule.watch(conn, rt, moving, clock[0])
        row = poll_row(rt, "SR400")
        assert (row.status, row.attempts, row.available_at) == ("polling", 0, clock[0] + timedelta(hours=1))
        with rt.engine.begin() as conn:
            poll_schedule.watch(conn, rt, Shipment("SR400", status=ShipmentStatus.DELIVERED), clock[0])
        assert poll_row(rt, "SR400").status == "done"
        # An expired token is renewed once, by logging in again.
        with rt.engine.begin() as conn:
            poll_schedule.watch(conn, rt, moving, clock[0])
        sr.token = "jwt-2"
        clock[0] += timedelta(hours=2)
        assert poll_due(rt, client) == 1 and sr.logins == 2
        client.close()
        rt.engine.dispose()


def test_no_polling_unless_configured(database_url: str) -> None:
    rt = build_runtime(Settings(database_url=database_url))
    with rt.engine.begin() as conn:
        poll_schedule.watch(conn, rt, Shipment("SR500"), rt.clock())
    assert poll_row(rt, "SR500") is None
    rt.engine.dispose()
