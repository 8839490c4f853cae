"""Replenishment offers through the real service (SQLite and PostgreSQL): an order delivered, its
replenishment timers fast-forwarded, and the stock feed deciding which product is offered."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from orderwire.store.tables import jobs
from tests.conftest import api, service_env, wait_for
from tests.integration.test_journey import ORDER
from tests.support.graph_server import GraphServer
from tests.support.live import LiveService
from tests.support.stock_server import StockServer

SKIPPED = "replenishment offer for TEA-250 skipped: "
FEED = "sku,available,restock_date\nTEA-250,5,\nSOAP-3,0,2027-01-05\n"
ITEMS = [
    {"name": "Assam Tea 250 g", "quantity": 2, "unit_price": 25000, "sku": "TEA-250"},
    {"name": "Neem Soap (3)", "quantity": 1, "unit_price": 15000, "sku": "SOAP-3"},
]


def _deliver(client: httpx.Client, order_id: str, opted_in: bool, phone: str = "+919812345678") -> None:
    customer = {**ORDER["customer"], "phone": phone}
    body = {**ORDER, "order_id": order_id, "paid": True, "items": ITEMS, "customer": customer}
    body["marketing_opt_in"] = opted_in
    client.post("/api/v1/orders", json=body).raise_for_status()
    for event in (
        {"type": "dispatched", "awb": f"AWB-{order_id}", "courier": "Delhivery"},
        {"type": "delivered", "awb": f"AWB-{order_id}"},
    ):
        client.post(f"/api/v1/orders/{order_id}/events", json=event).raise_for_status()
    wait_for(lambda: _view(client, order_id).get("stage") == "delivered")


def _view(client: httpx.Client, order_id: str) -> dict[str, Any]:
    view: dict[str, Any] = client.get(f"/api/v1/orders/{order_id}").json()
    return view


def _fire_replenish_timers(live: LiveService) -> int:
    """The replenishment periods pass: their pending timer jobs become due now."""
    assert live.rt is not None
    with live.rt.engine.begin() as conn:
        moved = conn.execute(
            jobs.update()
            .where(
                jobs.c.kind == "timer_fired",
                jobs.c.status == "pending",
                jobs.c.dedupe_key.like("%:replenish:%"),
            )
            .values(available_at=datetime.now(UTC))
        ).rowcount
    live.rt.wake()
    return int(moved)


def _offer_notes(client: httpx.Client, order_id: str) -> list[tuple[str, str]]:
    timeline = _view(client, order_id)["timeline"]
    return [(t["outcome"], t["note"]) for t in timeline if t["event"] == "timer:replenish"]


def test_offer_sent_once_for_the_product_in_stock(database_url: str, graph: GraphServer) -> None:
    with StockServer(FEED) as stock:
        env = service_env(database_url, graph.url, "") | {
            "ORDERWIRE_STOCK_FEED_URL": stock.url,
            "ORDERWIRE_REPLENISH_DAYS": "TEA-250=30,SOAP-3=45",
            "ORDERWIRE_REORDER_URL": "https://shop.example/search?q={sku}",
        }
        with LiveService(env) as live, api(live.url) as client:
            _deliver(client, "shop-1001", opted_in=True)
            _deliver(client, "shop-2002", opted_in=False, phone="+919876543210")  # another customer
            wait_for(lambda: graph.templates().count("order_delivered") == 2)
            assert "order_replenish" not in graph.templates()  # not before the period
            assert _fire_replenish_timers(live) == 4  # two SKUs on each order
            wait_for(lambda: len(_offer_notes(client, "shop-1001")) == 2)
            wait_for(lambda: len(_offer_notes(client, "shop-2002")) == 2)
            (offer,) = wait_for(
                lambda: [r.body for r in graph.requests if _template(r.body) == "order_replenish"]
            )
            assert offer["to"] == "919812345678"
            params = [
                p["text"]
                for c in offer["template"]["components"]
                if c["type"] == "body"
                for p in c["parameters"]
            ]
            assert params == [
                "Asha",
                "Assam Tea 250 g",
                "Order it again here: https://shop.example/search?q=TEA-250",
            ]
            assert sorted(_offer_notes(client, "shop-1001")) == [
                ("applied", "replenishment offer for TEA-250"),
                ("ignored", "replenishment offer for SOAP-3 skipped: not in stock"),
            ]
            assert sorted(_offer_notes(client, "shop-2002")) == [
                ("ignored", "replenishment offer for SOAP-3 skipped: no marketing opt-in from the shop"),
                ("ignored", "replenishment offer for TEA-250 skipped: no marketing opt-in from the shop"),
            ]
            # Once: nothing is left to fire, and the offer was sent a single time.
            assert _fire_replenish_timers(live) == 0
            messages = _view(client, "shop-1001")["messages"]
            assert [m["template"] for m in messages].count("order_replenish") == 1
            assert graph.templates().count("order_replenish") == 1
        assert stock.reads >= 1


def _template(body: dict[str, Any]) -> str:
    return str(body.get("template", {}).get("name", ""))


def test_no_offer_without_an_inventory_source_or_after_a_new_order(
    database_url: str, graph: GraphServer
) -> None:
    env = service_env(database_url, graph.url, "") | {"ORDERWIRE_REPLENISH_DAYS": "TEA-250=30"}
    with LiveService(env) as live, api(live.url) as client:
        _deliver(client, "shop-1001", opted_in=True)
        _deliver(client, "shop-3003", opted_in=True)  # the same customer buys the tea again
        wait_for(lambda: graph.templates().count("order_delivered") == 2)
        assert _fire_replenish_timers(live) == 2  # only the configured SKU, once per order
        (again,) = wait_for(lambda: _offer_notes(client, "shop-1001"))
        assert again == ("ignored", f"{SKIPPED}the customer ordered it again since")
        (note,) = wait_for(lambda: _offer_notes(client, "shop-3003"))
        assert note == (
            "ignored",
            "replenishment offer for TEA-250 skipped: stock unknown (no inventory source configured)",
        )
        assert "order_replenish" not in graph.templates()
