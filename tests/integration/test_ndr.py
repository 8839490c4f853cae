"""Failed deliveries through the real service: Shiprocket scans, the customer's choice, the courier's API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import sqlalchemy as sa

from orderwire.bot.ndr import offered_days
from orderwire.domain.messages import format_day
from orderwire.domain.policy import ShopPolicy
from orderwire.integrations.whatsapp.fake import customer_message_webhook, new_wamid
from orderwire.integrations.whatsapp.webhook import signature_for
from orderwire.store.tables import jobs, messages
from tests.conftest import TEST_APP_SECRET, api, wait_for
from tests.integration.test_courier_webhooks import DAY0, courier_env, post_shiprocket
from tests.integration.test_journey import ORDER
from tests.support.couriers import shiprocket_scan, shiprocket_webhook
from tests.support.graph_server import GraphServer
from tests.support.live import LiveService
from tests.support.shiprocket_server import EMAIL, PASSWORD, ShiprocketServer

AWB = "SR300"
PHONE = "+919812345678"
SCANS = [
    shiprocket_scan(42, "PICKED UP", DAY0, "Peenya, Bengaluru"),
    shiprocket_scan(18, "IN TRANSIT", DAY0 + timedelta(hours=8), "Hosur"),
    shiprocket_scan(17, "OUT FOR DELIVERY", DAY0 + timedelta(hours=26), "Indiranagar"),
    shiprocket_scan(21, "UNDELIVERED", DAY0 + timedelta(hours=30), "Indiranagar", "Customer not available"),
]
DELIVERED = shiprocket_scan(7, "DELIVERED", DAY0 + timedelta(hours=50), "Indiranagar")


def _tap(client: httpx.Client, context_id: str, **kind: Any) -> None:
    """The customer answers on WhatsApp: Meta's signed webhook, as the sandbox also sends it."""
    body = customer_message_webhook(
        "106540352242922", PHONE, "Asha Rao", datetime.now(UTC), new_wamid(), context_id=context_id, **kind
    )
    raw = json.dumps(body).encode()
    answer = client.post(
        "/webhooks/whatsapp",
        content=raw,
        headers={"X-Hub-Signature-256": signature_for(TEST_APP_SECRET, raw)},
    )
    assert answer.status_code == 200


def _wamid_of(live: LiveService, template: str) -> str:
    def find() -> str | None:
        with live.rt.engine.connect() as conn:  # type: ignore[union-attr]
            return conn.execute(
                sa.select(messages.c.wamid).where(
                    messages.c.template == template, messages.c.wamid.is_not(None)
                )
            ).scalar()

    found: str = wait_for(find)
    return found


def _ship_to_failure(client: httpx.Client, graph: GraphServer, scans: list[dict[str, str]] = SCANS) -> None:
    client.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()
    for k in range(len(scans)):
        body = shiprocket_webhook(AWB, scans[: k + 1], "shop-1001")
        assert post_shiprocket(client, body).status_code == 200
    wait_for(
        lambda: (
            graph.templates()
            == ["order_confirmation", "order_dispatched", "order_out_for_delivery", "order_delivery_failed"]
        )
    )


def _session(graph: GraphServer) -> list[dict[str, Any]]:
    return [r.body for r in graph.requests if r.body.get("type") in ("text", "interactive")]


def _sent(graph: GraphServer, kind: str) -> list[dict[str, Any]]:
    return [r.body for r in graph.requests if r.body.get("type") == kind]


def test_reschedule_end_to_end(database_url: str, graph: GraphServer) -> None:
    """Dispatch → in transit → out for delivery → NDR → Reschedule → a day → Shiprocket → delivered."""
    with ShiprocketServer() as sr:
        env = {
            **courier_env(database_url, graph),
            "ORDERWIRE_SHIPROCKET_API_URL": sr.url,
            "ORDERWIRE_SHIPROCKET_API_EMAIL": EMAIL,
            "ORDERWIRE_SHIPROCKET_API_PASSWORD": PASSWORD,
        }
        with LiveService(env) as live, api(live.url) as client:
            _ship_to_failure(client, graph)
            notice = graph.requests[-1].body
            assert notice["template"] == {
                "name": "order_delivery_failed",
                "language": {"code": "en"},
                "components": [
                    {
                        "type": "body",
                        "parameters": [
                            {"type": "text", "text": "#1001"},
                            {"type": "text", "text": "Customer not available"},
                        ],
                    },
                    *(
                        {
                            "type": "button",
                            "sub_type": "quick_reply",
                            "index": str(i),
                            "parameters": [{"type": "payload", "payload": f"ndr:{choice}:{AWB}"}],
                        }
                        for i, choice in enumerate(("reschedule", "change_address", "return"))
                    ),
                ],
            }
            context = _wamid_of(live, "order_delivery_failed")
            _tap(client, context, button=("Reschedule", f"ndr:reschedule:{AWB}"))
            (days_message,) = wait_for(lambda: _sent(graph, "interactive"))
            days = offered_days(datetime.now(UTC), ShopPolicy())
            assert days_message == {
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": "919812345678",
                "type": "interactive",
                "interactive": {
                    "type": "list",
                    "body": {
                        "text": "Order #1001: on which day should the courier try again? Pick a day below."
                    },
                    "action": {
                        "button": "Choose a day",
                        "sections": [
                            {
                                "title": "Choose a day",
                                "rows": [
                                    {
                                        "id": f"ndr:day:{AWB}:{d.isoformat()}",
                                        "title": format_day(d, "en"),
                                        "description": "Delivery attempt on this day",
                                    }
                                    for d in days
                                ],
                            }
                        ],
                    },
                },
            }
            assert all(d.weekday() != 6 for d in days)
            # Tapping Reschedule twice shows the list once.
            _tap(client, context, button=("Reschedule", f"ndr:reschedule:{AWB}"))
            chosen = days[1]
            row_id = f"ndr:day:{AWB}:{chosen.isoformat()}"
            _tap(client, _wamid_of(live, ""), choice=("list_reply", row_id, format_day(chosen, "en")))
            wait_for(lambda: sr.ndr_actions)
            assert sr.ndr_actions == [
                (
                    AWB,
                    {
                        "action": "re-attempt",
                        "comments": f"Customer asked on WhatsApp for a re-attempt on {chosen.isoformat()}",
                        "deferred_date": chosen.isoformat(),
                    },
                )
            ]
            (confirmation,) = wait_for(lambda: _sent(graph, "text"))
            assert confirmation == {
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": "919812345678",
                "type": "text",
                "text": {
                    "preview_url": False,
                    "body": "Done: the courier will try again to deliver order #1001 on "
                    f"{format_day(chosen, 'en')}. Please keep your phone reachable that day.",
                },
            }
            view = wait_for(lambda: _with_timeline(client, "courier_action"))
            (shipment,) = view["shipments"]
            assert (shipment["ndr_choice"], shipment["ndr_date"]) == ("reattempt", chosen.isoformat())
            assert shipment["ndr_chosen_at"] is not None
            # The same pick again asks nothing more of the courier and says nothing more.
            _tap(client, _wamid_of(live, ""), choice=("list_reply", row_id, format_day(chosen, "en")))
            body = shiprocket_webhook(AWB, [*SCANS, DELIVERED], "shop-1001")
            assert post_shiprocket(client, body).status_code == 200
            wait_for(lambda: graph.templates()[-1] == "order_delivered")
            assert client.get("/api/v1/orders/shop-1001").json()["stage"] == "delivered"
            assert len(sr.ndr_actions) == 1 and len(_sent(graph, "interactive")) == 1
            assert len(_sent(graph, "text")) == 1


def test_change_address_step_by_step(database_url: str, graph: GraphServer) -> None:
    """Change address: line, PIN code (checked), landmark, phone skipped, confirm → Shiprocket re-attempt."""
    with ShiprocketServer() as sr:
        env = {
            **courier_env(database_url, graph),
            "ORDERWIRE_SHIPROCKET_API_URL": sr.url,
            "ORDERWIRE_SHIPROCKET_API_TOKEN": sr.token,
        }
        with LiveService(env) as live, api(live.url) as client:
            _ship_to_failure(client, graph)
            _tap(
                client,
                _wamid_of(live, "order_delivery_failed"),
                button=("Change address", f"ndr:change_address:{AWB}"),
            )
            steps: list[dict[str, Any]] = [
                {"text": "Flat 4B, Lake View Apartments, Indiranagar"},
                {"text": "5600"},
                {"text": "560038"},
                {"text": "Opposite the metro station"},
                {"choice": ("button_reply", f"ndr:skip:{AWB}", "Skip")},
                {"choice": ("button_reply", f"ndr:address_ok:{AWB}", "Confirm")},
            ]
            for k, kind in enumerate(steps):
                wait_for(lambda k=k: len(_sent(graph, "text") + _sent(graph, "interactive")) == k + 1)
                _tap(client, "", **kind)
            wait_for(lambda: sr.ndr_actions)
            assert sr.ndr_actions == [
                (
                    AWB,
                    {
                        "action": "re-attempt",
                        "comments": "Customer gave a new address on WhatsApp",
                        "address1": "Flat 4B, Lake View Apartments, Indiranagar",
                        "address2": "Opposite the metro station, PIN 560038",
                    },
                )
            ]
            said = wait_for(lambda: _session(graph) if len(_session(graph)) == 7 else None)
            assert said[2]["text"]["body"].startswith("That is not a PIN code")
            assert said[4]["interactive"]["action"] == {
                "buttons": [{"type": "reply", "reply": {"id": f"ndr:skip:{AWB}", "title": "Skip"}}]
            }
            assert said[5]["interactive"]["body"]["text"] == (
                "New address for order #1001:\nFlat 4B, Lake View Apartments, Indiranagar, 560038\n"
                "Landmark: Opposite the metro station\nShall we send it to the courier?"
            )
            assert (
                said[6]["text"]["body"]
                == "Done: the courier will try again to deliver order #1001 at the new address."
            )
            view = wait_for(lambda: _with_case(client, "pincode_changed"))
            assert view["shipments"][0]["ndr_choice"] == "change_address"


def test_return_without_courier_api_is_left_to_staff(database_url: str, graph: GraphServer) -> None:
    """No Shiprocket API (the sandbox): the choice is recorded and flagged to push by hand, not faked."""
    with LiveService(courier_env(database_url, graph)) as live, api(live.url) as client:
        _ship_to_failure(client, graph)
        _tap(client, _wamid_of(live, "order_delivery_failed"), button=("Return", f"ndr:return:{AWB}"))
        (told,) = wait_for(lambda: _sent(graph, "text"))
        assert told["text"]["body"].startswith("Understood: order #1001 goes back to us.")
        view = wait_for(lambda: _with_timeline(client, "courier_action"))
        (entry,) = (t for t in view["timeline"] if t["event"] == "courier_action")
        assert "push return by hand" in entry["note"]
        assert view["shipments"][0]["ndr_choice"] == "return"
        (case,) = view["escalations"]
        assert (case["awb"], case["reason"], case["status"]) == (AWB, "push_to_courier", "open")
        assert case["detail"]["action"] == "return" and case["detail"]["requested_at"]
        assert client.get("/api/v1/escalations").json() == [case]
        assert client.post(f"/api/v1/escalations/{case['id']}/resolve").status_code == 204
        assert client.post(f"/api/v1/escalations/{case['id']}/resolve").status_code == 404
        assert client.get("/api/v1/escalations").json() == []


def _with_timeline(client: httpx.Client, event: str) -> dict[str, Any] | None:
    view: dict[str, Any] = client.get("/api/v1/orders/shop-1001").json()
    return view if any(t["event"] == event for t in view["timeline"]) else None


def test_no_answer_reminder_escalation_then_follow_through(database_url: str, graph: GraphServer) -> None:
    """Silence: one reminder, then staff. A re-attempt day passing with no scan: staff, with the choice."""
    env = {
        **courier_env(database_url, graph),
        "ORDERWIRE_NDR_REMINDER_MINUTES": "0.05",
        "ORDERWIRE_NDR_ESCALATE_MINUTES": "0.1",
    }
    # The parcel failed today: its scans are in the past, the days offered after them.
    ist_now = datetime.now(UTC).astimezone(ZoneInfo("Asia/Kolkata")).replace(tzinfo=None)
    recent = [
        shiprocket_scan(42, "PICKED UP", ist_now - timedelta(hours=30), "Peenya, Bengaluru"),
        shiprocket_scan(17, "OUT FOR DELIVERY", ist_now - timedelta(minutes=3), "Indiranagar"),
        shiprocket_scan(
            21, "UNDELIVERED", ist_now - timedelta(minutes=1), "Indiranagar", "Customer not available"
        ),
    ]
    with LiveService(env) as live, api(live.url) as client:
        _ship_to_failure(client, graph, recent)
        wait_for(lambda: graph.templates()[-1] == "order_ndr_reminder")
        reminder = graph.requests[-1].body["template"]
        assert reminder["components"][0] == {
            "type": "body",
            "parameters": [{"type": "text", "text": "#1001"}],
        }
        view = wait_for(lambda: _with_case(client, "no_answer"))
        (case,) = view["escalations"]
        assert (
            case["detail"]["courier_reason"] == "Customer not available" and case["detail"]["attempt"] == "1"
        )
        # The customer answers late: a day is chosen; the courier's scans then stay silent past that day.
        _tap(client, _wamid_of(live, "order_ndr_reminder"), button=("Reschedule", f"ndr:reschedule:{AWB}"))
        wait_for(lambda: _sent(graph, "interactive"))
        chosen = offered_days(datetime.now(UTC), ShopPolicy())[0]
        row_id = f"ndr:day:{AWB}:{chosen.isoformat()}"
        _tap(client, _wamid_of(live, ""), choice=("list_reply", row_id, format_day(chosen, "en")))
        wait_for(lambda: len(_sent(graph, "text")) == 1)
        assert _sent(graph, "template")[-1]["template"]["name"] == "order_ndr_reminder"  # still one reminder
        assert live.rt is not None
        with live.rt.engine.begin() as conn:  # the end of the chosen day arrives
            moved = conn.execute(
                jobs.update()
                .where(jobs.c.kind == "timer_fired", jobs.c.dedupe_key.like("%ndr_check%"))
                .values(available_at=datetime.now(UTC))
            ).rowcount
        assert moved == 1
        live.rt.wake()
        view = wait_for(lambda: _with_case(client, "reattempt_missed"))
        (missed,) = (c for c in view["escalations"] if c["reason"] == "reattempt_missed")
        shipment = view["shipments"][0]
        assert missed["detail"] == {
            "choice": "reattempt",
            "date": chosen.isoformat(),
            "chosen_at": shipment["ndr_chosen_at"],
            "courier": "Delhivery Surface",
        }
        report = client.get("/api/v1/reports/ndr").json()
        assert report["courier"]["Delhivery Surface"] == {
            "parcels": 1,
            "failed": 1,
            "ndr_rate": 1.0,
            "reattempts": 1,
            "reattempts_delivered": 0,
            "reattempt_success": 0.0,
            "suspected_fake_attempts": 0,
        }
        assert report["pincode"]["560001"]["parcels"] == 1


def _with_case(client: httpx.Client, reason: str) -> dict[str, Any] | None:
    view: dict[str, Any] = client.get("/api/v1/orders/shop-1001").json()
    return view if any(c["reason"] == reason for c in view["escalations"]) else None


def test_migration_0004_up_and_down(database_url: str) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from orderwire.store.db import alembic_config, make_engine, migrate
    from orderwire.store.tables import metadata

    migrate(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        assert [d for d in diffs if "escalations" in repr(d)] == []
        command.downgrade(alembic_config(database_url), "0003")
        with engine.connect() as conn:
            assert "escalations" not in sa.inspect(conn).get_table_names()
        command.upgrade(alembic_config(database_url), "head")
        with engine.connect() as conn:
            assert "escalations" in sa.inspect(conn).get_table_names()
    finally:
        engine.dispose()
