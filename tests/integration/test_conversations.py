"""The customer writes back, through the signed WhatsApp webhook, the pump and durable sending."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from orderwire.integrations.whatsapp.fake import customer_message_webhook, new_wamid
from orderwire.integrations.whatsapp.webhook import signature_for
from orderwire.store.tables import customers, jobs
from tests.conftest import TEST_APP_SECRET, api, service_env, wait_for
from tests.integration.test_journey import ORDER
from tests.support.graph_server import GraphServer
from tests.support.live import LiveService

PHONE = "+919812345678"
NUMBER_ID = "106540352242922"
BSUID = "IN.13491208655302741918"
PUBLIC = "https://track.shop.example"
SECOND = {**ORDER, "order_id": "shop-1002", "number": "#1002"}


def _post(client: httpx.Client, body: dict[str, Any], indent: int | None = None) -> None:
    raw = json.dumps(body, indent=indent).encode()
    answer = client.post(
        "/webhooks/whatsapp",
        content=raw,
        headers={"X-Hub-Signature-256": signature_for(TEST_APP_SECRET, raw)},
    )
    assert answer.status_code == 200


def _write(client: httpx.Client, at: datetime | None = None, **kind: Any) -> str:
    """The customer types (text=...) or taps (button=(text, payload) or choice=(kind, id, title))."""
    wamid = new_wamid()
    _post(
        client, customer_message_webhook(NUMBER_ID, PHONE, "Asha Rao", at or datetime.now(UTC), wamid, **kind)
    )
    return wamid


def _sessions(graph: GraphServer) -> list[dict[str, Any]]:
    return [r.body for r in graph.requests if r.body.get("type") in ("text", "interactive")]


def _said(graph: GraphServer, n: int) -> dict[str, Any]:
    """The n-th session message the customer got (1-based), once it arrives."""
    found: dict[str, Any] = wait_for(lambda: _sessions(graph)[n - 1] if len(_sessions(graph)) >= n else None)
    return found


def _text(message: dict[str, Any]) -> str:
    if message["type"] == "text":
        return str(message["text"]["body"])
    return str(message["interactive"]["body"]["text"])


def _ids(message: dict[str, Any]) -> list[str]:
    action = message["interactive"]["action"]
    if "buttons" in action:
        return [b["reply"]["id"] for b in action["buttons"]]
    return [r["id"] for s in action["sections"] for r in s["rows"]]


def _order(client: httpx.Client, body: dict[str, Any], *events: dict[str, Any], stage: str) -> dict[str, Any]:
    assert client.post("/api/v1/orders", json={**body, "paid": True}).status_code == 202
    for event in events:
        assert client.post(f"/api/v1/orders/{body['order_id']}/events", json=event).status_code == 202
    view: dict[str, Any] = wait_for(lambda: _view(client, body["order_id"], stage))
    return view


def _view(client: httpx.Client, order_id: str, stage: str = "") -> dict[str, Any] | None:
    answer = client.get(f"/api/v1/orders/{order_id}")
    if answer.status_code != 200:
        return None
    view: dict[str, Any] = answer.json()
    return view if not stage or view["stage"] == stage else None


def _case(client: httpx.Client, order_id: str, reason: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        view = _view(client, order_id)
        return next((c for c in (view or {}).get("escalations", []) if c["reason"] == reason), None)

    found: dict[str, Any] = wait_for(find)
    return found


def _cases(client: httpx.Client, reason: str) -> list[dict[str, Any]]:
    view = _view(client, "shop-1001") or {"escalations": []}
    return [c for c in view["escalations"] if c["reason"] == reason]


def _message_status(client: httpx.Client, kind: str) -> str:
    view = _view(client, "shop-1001") or {"messages": []}
    return next((str(m["status"]) for m in view["messages"] if m["kind"] == kind), "")


DISPATCH = {"type": "dispatched", "awb": "AWB1", "courier": "Delhivery", "location": "Hosur Hub"}


def test_where_is_my_order_with_one_then_several_orders(database_url: str, graph: GraphServer) -> None:
    with LiveService(service_env(database_url, graph.url, PUBLIC)) as live, api(live.url) as client:
        first = _order(client, ORDER, DISPATCH, stage="dispatched")
        assert first["customer"]["window_expires_at"] is None  # the customer never wrote
        _write(client, text="Where is my order?")
        answer = _said(graph, 1)
        assert answer["type"] == "text" and answer["to"] == "919812345678"
        assert _text(answer) == (
            "Order #1001 is on its way.\nLast scanned at Hosur Hub.\nExpected delivery: Thu, 3 Dec.\n"
            f"Track it here: {first['tracking_url']}"
        )
        assert first["tracking_url"].startswith(f"{PUBLIC}/t/")
        view = _view(client, "shop-1001")
        assert view is not None
        closes = datetime.fromisoformat(view["customer"]["window_expires_at"])
        assert timedelta(hours=23) < closes - datetime.now(UTC) <= timedelta(hours=24)
        assert [(m["direction"], m["kind"]) for m in view["messages"]][-2:] == [
            ("in", "text"),
            ("out", "wismo"),
        ]
        # A second order is on its way: the customer is asked which, and the pick is answered.
        _order(client, SECOND, stage="confirmed")
        wait_for(lambda: graph.templates().count("order_confirmation") == 2)
        _write(client, text="where is my order")
        which = _said(graph, 2)
        assert which["interactive"]["type"] == "list"
        assert _ids(which) == ["wismo:shop-1002", "wismo:shop-1001"]
        _write(client, choice=("list_reply", "wismo:shop-1002", "#1002"))
        assert _text(_said(graph, 3)).startswith("Order #1002 is confirmed and being prepared.")
        # A username user (business-scoped id only) is known by the id an earlier message carried.
        body = customer_message_webhook(
            NUMBER_ID, PHONE, "Asha Rao", datetime.now(UTC), new_wamid(), text="hi"
        )
        value = body["entry"][0]["changes"][0]["value"]
        value["contacts"][0]["user_id"] = BSUID
        value["messages"][0]["from_user_id"] = BSUID
        _post(client, body)
        assert _text(_said(graph, 4)) == "Hello Asha! How can we help you today?"
        wait_for(lambda: _user_id(live) == BSUID)
        del value["contacts"][0]["wa_id"], value["messages"][0]["from"]
        value["messages"][0] |= {"id": new_wamid(), "text": {"body": "I want to talk to a person"}}
        _post(client, body)
        assert _text(_said(graph, 5)) == "Sure, someone from our team will reply here within 4 hours."
        assert _case(client, "shop-1002", "customer_asked_for_human")["detail"]["message"] == (
            "I want to talk to a person"
        )
        # A redelivered message answers nothing twice, even in a delivery whose bytes differ.
        _post(client, body, indent=2)
        _write(client, text="thanks")
        wait_for(lambda: len(_sessions(graph)) == 6)
        assert len(_sessions(graph)) == 6


def _user_id(live: LiveService) -> str | None:
    assert live.rt is not None
    with live.rt.engine.connect() as conn:
        return conn.execute(sa.select(customers.c.user_id)).scalar()


def test_cancel_before_and_after_dispatch(database_url: str, graph: GraphServer) -> None:
    with LiveService(service_env(database_url, graph.url, PUBLIC)) as live, api(live.url) as client:
        _order(client, ORDER, stage="confirmed")
        _write(client, text="Please cancel my order")
        ask = _said(graph, 1)
        assert _text(ask) == "Cancel order #1001 (2 × Cotton Kurta)?"
        assert _ids(ask) == ["cancel:yes:shop-1001", "cancel:no:shop-1001"]
        _write(client, choice=("button_reply", "cancel:yes:shop-1001", "Yes, cancel it"))
        view = wait_for(lambda: _view(client, "shop-1001", "cancelled"))
        wait_for(lambda: graph.templates()[-1] == "order_cancelled")  # the confirmation
        assert any("at the customer's request" in t["note"] for t in view["timeline"])
        assert live.rt is not None
        with live.rt.engine.connect() as conn:
            (call,) = conn.execute(sa.select(jobs.c.payload).where(jobs.c.kind == "shop_cancel")).scalars()
        assert {k: call[k] for k in ("order_id", "reason")} == {
            "order_id": "shop-1001",
            "reason": "customer asked on WhatsApp",
        }
        # A second order, already dispatched: it cannot be cancelled, a return is offered.
        _order(client, SECOND, {**DISPATCH, "awb": "AWB2"}, stage="dispatched")
        _write(client, text="cancel my order")
        late = _said(graph, 2)
        assert _text(late).startswith("Order #1002 has already left our warehouse")
        assert _ids(late) == ["return:shop-1002", "menu:human"]
        _write(client, choice=("button_reply", "return:shop-1002", "Return it"))
        # The returns dialogue answers: not delivered yet, so a return starts once it is.
        wait_for(
            lambda: any(_text(m).startswith("Order #1002 has not been delivered") for m in _sessions(graph))
        )
        assert _view(client, "shop-1002", "dispatched") is not None


def test_stop_then_start(database_url: str, graph: GraphServer) -> None:
    with LiveService(service_env(database_url, graph.url, PUBLIC)) as live, api(live.url) as client:
        _order(client, ORDER, stage="confirmed")
        wait_for(lambda: graph.templates() == ["order_confirmation"])
        _write(client, text="STOP")
        assert _text(_said(graph, 1)).startswith("You will no longer get updates from us on WhatsApp.")
        _write(client, text="stop")  # no change: not confirmed again
        client.post("/api/v1/orders/shop-1001/events", json=DISPATCH).raise_for_status()
        view = wait_for(lambda: _view(client, "shop-1001", "dispatched"))
        wait_for(lambda: _message_status(client, "dispatched") == "suppressed")
        # Questions are still answered after STOP.
        _write(client, text="where is my order")
        assert _text(_said(graph, 2)).startswith("Order #1001 is on its way.")
        _write(client, text="शुरू करो")
        assert _text(_said(graph, 3)).startswith("Welcome back")
        client.post(
            "/api/v1/orders/shop-1001/events", json={"type": "out_for_delivery", "awb": "AWB1"}
        ).raise_for_status()
        wait_for(lambda: graph.templates() == ["order_confirmation", "order_out_for_delivery"])
        assert len(_sessions(graph)) == 3 and view["stage"] == "dispatched"


def test_ratings_and_unclear_messages(database_url: str, graph: GraphServer) -> None:
    env = {
        **service_env(database_url, graph.url, PUBLIC),
        "ORDERWIRE_REVIEW_URL": "https://g.page/r/demo/review",
    }
    delivered = {"type": "delivered", "awb": "AWB1"}
    with LiveService(env) as live, api(live.url) as client:
        _order(client, ORDER, DISPATCH, delivered, stage="delivered")
        # Taps on the follow-up template's quick replies (`rating:<score>:<order id>`).
        _write(client, button=("Not happy", "rating:1:shop-1001"))
        assert "Someone from our team will contact you within 4 hours" in _text(_said(graph, 1))
        low = _case(client, "shop-1001", "low_rating")
        assert low["detail"]["rating"] == "1"
        _write(client, text="⭐⭐⭐⭐⭐")
        assert _text(_said(graph, 2)) == (
            "Thank you, that made our day! Would you share it in a review? https://g.page/r/demo/review"
        )
        view = _view(client, "shop-1001")
        assert view is not None and view["rating"] == 5
        assert [t["note"] for t in view["timeline"] if t["note"].startswith("rated")] == [
            "rated 1 of 5",
            "rated 5 of 5",
        ]
        _write(client, text="blah blah qwerty")
        assert _text(_said(graph, 3)).startswith("Sorry, I did not quite get that.")
        _write(client, text="zzzz")
        assert (
            _text(_said(graph, 4)) == "Let me pass this to our team: someone will reply here within 4 hours."
        )
        assert _case(client, "shop-1001", "bot_could_not_answer")["detail"]["message"] == "zzzz"


def test_outside_the_window_a_reply_becomes_a_staff_case(database_url: str, graph: GraphServer) -> None:
    with LiveService(service_env(database_url, graph.url, PUBLIC)) as live, api(live.url) as client:
        _order(client, ORDER, DISPATCH, stage="dispatched")
        wait_for(lambda: len(graph.templates()) == 2)
        # Meta redelivers a message a day and a half late: the window it opened has closed.
        _write(client, at=datetime.now(UTC) - timedelta(hours=36), text="where is my order")
        case = _case(client, "shop-1001", "window_closed")
        assert case["detail"]["unsent"].startswith("Order #1001 is on its way.")
        # Meta refuses a reply the window closed on meanwhile (131047): staff get it too.
        graph.fail_next(400, 131047, "Re-engagement message")
        _write(client, text="talk to a person please")
        refused = wait_for(lambda: _cases(client, "window_closed")[1:])
        assert refused[0]["detail"]["unsent"].startswith("Sure, someone from our team will reply")
        assert refused[0]["detail"]["error"] == "131047"
        assert _message_status(client, "bot") == "failed"


def test_migration_0008_up_and_down(database_url: str) -> None:
    from alembic import command

    from orderwire.store.db import alembic_config, make_engine, migrate

    migrate(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            names = {i["name"] for i in sa.inspect(conn).get_indexes("customers")}
        assert "ix_customers_shop_user" in names
        command.downgrade(alembic_config(database_url), "0005")
        with engine.connect() as conn:
            names = {i["name"] for i in sa.inspect(conn).get_indexes("customers")}
        assert "ix_customers_shop_user" not in names
        command.upgrade(alembic_config(database_url), "head")
    finally:
        engine.dispose()
