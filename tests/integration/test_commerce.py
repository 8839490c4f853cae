"""Order-level commerce flows through the real service: COD confirmation on WhatsApp, failed payments,
payments whose order details never came, and back-ordered items, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import sqlalchemy as sa

from orderwire.app import orders
from orderwire.domain.events import PaymentFailed
from orderwire.integrations.base import Routed
from orderwire.store.tables import jobs
from tests.conftest import api, service_env, wait_for
from tests.integration.test_journey import ORDER
from tests.integration.test_ndr import _sent, _tap, _wamid_of
from tests.support.graph_server import GraphServer
from tests.support.live import LiveService
from tests.support.stock_server import StockServer

COD_ORDER = {**ORDER, "payment_method": "cod"}
LINK = "https://rzp.io/i/nxrHnLJ"


def _env(database_url: str, graph: GraphServer, **settings: str) -> dict[str, str]:
    env = service_env(database_url, graph.url, "")
    return env | {f"ORDERWIRE_{k.upper()}": v for k, v in settings.items()}


def _view(client: httpx.Client, order_id: str = "shop-1001") -> dict[str, Any]:
    view: dict[str, Any] = client.get(f"/api/v1/orders/{order_id}").json()
    return view


def _calls(live: LiveService, kind: str) -> list[dict[str, Any]]:
    assert live.rt is not None
    with live.rt.engine.connect() as conn:
        rows = conn.execute(sa.select(jobs.c.payload).where(jobs.c.kind == kind).order_by(jobs.c.id)).all()
    return [{k: v for k, v in r.payload.items() if k != "order_pk"} for r in rows]


def _body_params(request_body: dict[str, Any]) -> list[str]:
    return [
        p["text"]
        for c in request_body["template"]["components"]
        if c["type"] == "body"
        for p in c["parameters"]
    ]


def test_cod_confirmed_on_whatsapp_then_confirmation(database_url: str, graph: GraphServer) -> None:
    env = _env(database_url, graph, cod_hold_dispatch="true")
    with LiveService(env) as live, api(live.url) as client:
        client.post("/api/v1/orders", json=COD_ORDER).raise_for_status()
        wait_for(lambda: graph.templates() == ["order_cod_confirm"])
        ask = graph.requests[0].body["template"]
        assert _body_params(graph.requests[0].body) == [
            "Asha",
            "#1001",
            "2 × Cotton Kurta",
            "₹1,23,456.00",
            "12 MG Road, Bengaluru, 560001",
            "Thu, 3 Dec",
        ]
        assert [c["parameters"][0]["payload"] for c in ask["components"] if c["type"] == "button"] == [
            "cod:confirm:shop-1001",
            "cod:cancel:shop-1001",
        ]
        assert (_view(client)["stage"], _view(client)["cod_status"]) == ("placed", "awaiting")
        assert _calls(live, "shop_hold") == [{"hold": "1", "reason": "cash on delivery not confirmed yet"}]
        context = _wamid_of(live, "order_cod_confirm")
        _tap(client, context, button=("Confirm order", "cod:confirm:shop-1001"))
        wait_for(lambda: graph.templates() == ["order_cod_confirm", "order_confirmation"])
        view = _view(client)
        assert (view["stage"], view["cod_status"]) == ("confirmed", "confirmed")
        assert _calls(live, "shop_hold")[1] == {"hold": "0", "reason": "customer confirmed cash on delivery"}
        # A second tap: recorded, nothing more sent or asked of the shop.
        _tap(client, context, button=("Confirm order", "cod:confirm:shop-1001"))
        wait_for(lambda: [t["outcome"] for t in _view(client)["timeline"]][-1] == "duplicate")
        assert graph.templates() == ["order_cod_confirm", "order_confirmation"]
        assert len(_calls(live, "shop_hold")) == 2 and _sent(graph, "text") == []


def test_cod_cancelled_on_whatsapp(database_url: str, graph: GraphServer) -> None:
    with LiveService(_env(database_url, graph)) as live, api(live.url) as client:
        client.post("/api/v1/orders", json=COD_ORDER).raise_for_status()
        wait_for(lambda: graph.templates() == ["order_cod_confirm"])
        context = _wamid_of(live, "order_cod_confirm")
        _tap(client, context, button=("Cancel order", "cod:cancel:shop-1001"))
        wait_for(lambda: graph.templates() == ["order_cod_confirm", "order_cancelled"])
        assert _body_params(graph.requests[-1].body) == ["#1001", "Nothing is due from you."]
        view = _view(client)
        assert (view["stage"], view["cod_status"]) == ("cancelled", "declined")
        assert _calls(live, "shop_cancel") == [{"reason": "customer declined the cash-on-delivery order"}]
        # Changing their mind too late: a polite explanation, the order stays cancelled.
        _tap(client, context, button=("Confirm order", "cod:confirm:shop-1001"))
        (told,) = wait_for(lambda: _sent(graph, "text"))
        assert told["text"]["body"].startswith("Order #1001 has already been cancelled")
        assert _view(client)["stage"] == "cancelled"
        assert graph.templates() == ["order_cod_confirm", "order_cancelled"]


def test_cod_unanswered_reminder_then_staff(database_url: str, graph: GraphServer) -> None:
    env = _env(database_url, graph, cod_reminder_minutes="0.02", cod_escalate_minutes="0.02")
    with LiveService(env) as live, api(live.url) as client:
        client.post("/api/v1/orders", json=COD_ORDER).raise_for_status()
        wait_for(lambda: graph.templates() == ["order_cod_confirm", "order_cod_reminder"])
        reminder = graph.requests[-1].body
        assert _body_params(reminder) == ["#1001", "₹1,23,456.00"]
        cases = wait_for(lambda: client.get("/api/v1/escalations").json())
        (case,) = cases
        assert (case["order_id"], case["reason"], case["status"]) == ("shop-1001", "cod_unconfirmed", "open")
        assert case["detail"]["dispatch_held"] == "no"
        # The customer answers the reminder late: the order goes ahead.
        _tap(client, _wamid_of(live, "order_cod_reminder"), button=("Confirm order", "cod:confirm:shop-1001"))
        wait_for(lambda: graph.templates()[-1] == "order_confirmation")
        assert graph.templates() == ["order_cod_confirm", "order_cod_reminder", "order_confirmation"]


def test_payment_failed_then_captured(database_url: str, graph: GraphServer) -> None:
    with LiveService(_env(database_url, graph)) as live, api(live.url) as client:
        client.post("/api/v1/orders", json=ORDER).raise_for_status()
        failed = {
            "type": "payment_failed",
            "payment_id": "pay_1",
            "reason": "card declined",
            "retry_url": LINK,
        }
        client.post("/api/v1/orders/shop-1001/events", json=failed).raise_for_status()
        wait_for(lambda: graph.templates() == ["order_payment_failed"])
        assert _body_params(graph.requests[0].body) == [
            "Asha",
            "#1001",
            "₹1,23,456.00",
            f"You can pay again here: {LINK}",
        ]
        again = {**failed, "event_id": "second-failure", "payment_id": "pay_2"}
        client.post("/api/v1/orders/shop-1001/events", json=again).raise_for_status()
        wait_for(lambda: len(_view(client)["timeline"]) == 3)
        assert _view(client)["stage"] == "placed"
        client.post("/api/v1/orders/shop-1001/events", json={"type": "paid", "payment_id": "pay_3"})
        wait_for(lambda: graph.templates() == ["order_payment_failed", "order_confirmation"])
        assert _view(client)["stage"] == "confirmed"
        bad = client.post("/api/v1/orders/shop-1001/events", json={**failed, "retry_url": "ftp://x"})
        assert bad.status_code == 422
        assert live.rt is not None


def test_payment_waiting_for_order_details_goes_to_staff_without_a_shop_api(
    database_url: str, graph: GraphServer
) -> None:
    """No shop API here: the details cannot be fetched, so staff get a case; the payment keeps waiting.

    With a shop API the call fetches the order instead (tests/integration/test_order_details_fetch.py).
    """
    env = _env(database_url, graph, order_details_wait_seconds="1")
    with LiveService(env) as live, api(live.url) as client:
        client.post("/api/v1/orders/shop-1001/events", json={"type": "paid"}).raise_for_status()
        assert "1 event(s) wait" in client.get("/api/v1/orders/shop-1001").json()["detail"]
        # Another payment whose order follows at once: nothing for staff.
        client.post("/api/v1/orders/shop-2002/events", json={"type": "paid"}).raise_for_status()
        client.post("/api/v1/orders", json={**ORDER, "order_id": "shop-2002"}).raise_for_status()
        # A gateway's failure naming only its own order id: nothing to ask the shop by.
        failure = PaymentFailed(datetime.now(UTC), "pay_7", "upi timeout")
        gateway = [Routed("razorpay_order:order_Nx7", failure)]
        assert live.rt is not None
        orders.submit(live.rt, "razorpay", "evt_1", "{}", gateway, "payment.failed")
        wait_for(lambda: graph.templates() == ["order_confirmation"])
        cases = wait_for(lambda: _two(client.get("/api/v1/escalations").json()))
        case = next(c for c in cases if c["detail"]["ref"] == "order:shop-1001")
        assert (case["order_id"], case["reason"], case["status"]) == (
            "shop-1001",
            "order_details_missing",
            "open",
        )
        assert "no shop API is configured" in case["detail"]["note"]
        (by_gateway,) = (c for c in cases if c["detail"]["ref"] == "razorpay_order:order_Nx7")
        assert (by_gateway["order_id"], by_gateway["reason"]) == ("", "order_details_missing")
        assert "names no shop order id" in by_gateway["detail"]["note"]
        missing = client.get("/api/v1/orders/shop-1001")
        assert missing.status_code == 404 and "1 event(s) wait" in missing.json()["detail"]

        def fetches_done() -> bool:
            with live.rt.engine.connect() as conn:  # type: ignore[union-attr]
                statuses = conn.execute(
                    sa.select(jobs.c.status).where(jobs.c.kind == "shop_fetch_order")
                ).scalars()
                done = list(statuses)
                # shop-2002's payment usually finds its order before it would park (no fetch at all);
                # on a slow machine it parks first and its fetch finds the order arrived in time.
                return len(done) in (2, 3) and set(done) == {"done"}

        wait_for(fetches_done)
        assert len(client.get("/api/v1/escalations").json()) == 2
        # The details arrive in the end: the waiting payment applies, one confirmation.
        client.post("/api/v1/orders", json=ORDER).raise_for_status()
        wait_for(lambda: graph.templates() == ["order_confirmation", "order_confirmation"])
        assert _view(client)["stage"] == "confirmed"
        assert [t["event"] for t in _view(client)["timeline"]] == ["order_placed", "payment_captured"]


def _two(cases: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    return cases if len(cases) == 2 else None


def test_back_ordered_item_gets_a_later_edd(database_url: str, graph: GraphServer) -> None:
    feed = "sku,available,restock_date\nKURTA-BLUE-M,12,\nKURTA-BLUE-L,1,2026-12-07\n"
    with StockServer(feed) as stock:
        env = _env(database_url, graph, stock_feed_url=stock.url)
        with LiveService(env) as live, api(live.url) as client:
            in_stock = {
                **ORDER,
                "order_id": "shop-1000",
                "paid": True,
                "items": [
                    {"name": "Cotton Kurta", "quantity": 2, "unit_price": 6172800, "sku": "KURTA-BLUE-M"}
                ],
            }
            client.post("/api/v1/orders", json=in_stock).raise_for_status()
            wait_for(lambda: graph.templates() == ["order_confirmation"])
            assert _body_params(graph.requests[0].body)[5] == "Thu, 3 Dec"  # the shop's EDD
            waiting = {
                **in_stock,
                "order_id": "shop-1001",
                "items": [
                    {"name": "Cotton Kurta", "quantity": 2, "unit_price": 6172800, "sku": "KURTA-BLUE-L"}
                ],
            }
            client.post("/api/v1/orders", json=waiting).raise_for_status()
            wait_for(lambda: len(graph.templates()) == 2)
            # Restocked Mon 7 Dec, then the default 5 working days (no origin PIN code configured).
            assert _body_params(graph.requests[1].body)[5] == "Sat, 12 Dec"
            assert _view(client)["expected_delivery_date"] == "2026-12-12"
            assert live.rt is not None
        assert stock.reads >= 1


def test_migration_0006_up_and_down(database_url: str) -> None:
    from alembic import command

    from orderwire.store.db import alembic_config, make_engine, migrate

    migrate(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            (column,) = [c for c in sa.inspect(conn).get_columns("escalations") if c["name"] == "order_pk"]
        assert column["nullable"] is True
        command.downgrade(alembic_config(database_url), "0005")
        with engine.connect() as conn:
            (column,) = [c for c in sa.inspect(conn).get_columns("escalations") if c["name"] == "order_pk"]
        assert column["nullable"] is False
        command.upgrade(alembic_config(database_url), "head")
    finally:
        engine.dispose()
