"""Returns through the real service: the dialogue on WhatsApp, photos from the Graph API, the label link,
the return parcel from Shiprocket, the refund, and the cases staff get."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from orderwire.app import orders, sandbox
from orderwire.app import returns as returns_app
from orderwire.domain.events import RefundUpdated
from orderwire.integrations.whatsapp.fake import customer_message_webhook, new_wamid
from orderwire.integrations.whatsapp.webhook import signature_for
from orderwire.store.tables import jobs, messages, return_photos, returns
from tests.conftest import TEST_API_KEY, TEST_APP_SECRET, api, free_port, wait_for
from tests.integration.test_courier_webhooks import courier_env, post_shiprocket
from tests.integration.test_journey import ORDER
from tests.support.couriers import shiprocket_scan, shiprocket_webhook
from tests.support.graph_server import GraphServer
from tests.support.live import LiveService
from tests.support.shiprocket_server import ShiprocketServer

ASHA = "+919812345678"
RAVI = "+919811122233"
NAMES = {ASHA: "Asha Rao", RAVI: "Ravi Kumar"}
PHOTO_ONE = b"\xff\xd8\xff\xe0 photo of a torn kurta, front"
PHOTO_TWO = b"\xff\xd8\xff\xe0 photo of a torn kurta, seam"
RETURN_ADDRESS = "Demo Shop Returns | 14 Peenya Industrial Area | Bengaluru 560058"


def _env(database_url: str, graph: GraphServer, media_dir: Path) -> dict[str, str]:
    env = {
        **courier_env(database_url, graph),
        "ORDERWIRE_RETURN_ADDRESS": RETURN_ADDRESS,
        "ORDERWIRE_MEDIA_DIR": str(media_dir),
    }
    del env["ORDERWIRE_PUBLIC_URL"]  # the label link must point at the live service
    return env


def _customer_says(client: httpx.Client, phone: str, context_id: str = "", **kind: Any) -> None:
    """The customer writes, taps or sends a photo: Meta's signed webhook."""
    body = customer_message_webhook(
        "106540352242922", phone, "", datetime.now(UTC), new_wamid(), context_id=context_id, **kind
    )
    raw = json.dumps(body).encode()
    answer = client.post(
        "/webhooks/whatsapp",
        content=raw,
        headers={"X-Hub-Signature-256": signature_for(TEST_APP_SECRET, raw)},
    )
    assert answer.status_code == 200


def _to(graph: GraphServer, phone: str) -> list[dict[str, Any]]:
    return [r.body for r in graph.requests if r.body.get("to") == phone.lstrip("+")]


def _said(graph: GraphServer, phone: str, count: int) -> list[dict[str, Any]]:
    """Wait until `count` messages went to this customer; returns them all."""
    found: list[dict[str, Any]] = wait_for(lambda: len(_to(graph, phone)) >= count and _to(graph, phone))
    return found


def _delivered_order(
    client: httpx.Client, graph: GraphServer, live: LiveService, order_id: str, phone: str
) -> str:
    """An order paid online, shipped and delivered; returns the wamid of the delivered message."""
    body = {
        **ORDER,
        "order_id": order_id,
        "number": f"#{order_id[-4:]}",
        "customer": {"phone": phone, "name": NAMES[phone]},
    }
    client.post("/api/v1/orders", json=body).raise_for_status()
    for event in (
        {"type": "paid", "payment_id": f"pay_{order_id}"},
        {"type": "dispatched", "awb": f"AWB-{order_id}", "courier": "Delhivery"},
        {"type": "delivered", "awb": f"AWB-{order_id}"},
    ):
        client.post(f"/api/v1/orders/{order_id}/events", json=event).raise_for_status()
    wait_for(
        lambda: [m.get("template", {}).get("name") for m in _to(graph, phone)][-1:] == ["order_delivered"]
    )

    def delivered_wamid() -> str | None:
        assert live.rt is not None
        with live.rt.engine.connect() as conn:
            return conn.execute(
                sa.select(messages.c.wamid).where(
                    messages.c.template == "order_delivered",
                    messages.c.key.startswith(order_id),
                    messages.c.wamid.is_not(None),
                )
            ).scalar()

    wamid: str = wait_for(delivered_wamid)
    return wamid


def _open_damaged_return(
    client: httpx.Client, graph: GraphServer, live: LiveService, order_id: str, phone: str
) -> tuple[str, int]:
    """Report a problem → Damaged; returns the RMA and how many messages the customer has had."""
    context = _delivered_order(client, graph, live, order_id, phone)
    before = len(_to(graph, phone))
    _customer_says(client, phone, context, button=("Report a problem", f"problem:{order_id}"))
    reasons = _said(graph, phone, before + 1)[-1]
    rows = reasons["interactive"]["action"]["sections"][0]["rows"]
    rma = rows[0]["id"].split(":")[2]
    assert [r["id"] for r in rows][:2] == [f"ret:reason:{rma}:damaged", f"ret:reason:{rma}:wrong_item"]
    _customer_says(client, phone, choice=("list_reply", f"ret:reason:{rma}:damaged", "Damaged"))
    ask = _said(graph, phone, before + 2)[-1]
    assert ask["interactive"]["body"]["text"].startswith("Please send 1 to 3 photos")
    return rma, before + 2


def _cases(client: httpx.Client, order_id: str, reason: str) -> list[dict[str, Any]] | None:
    view = client.get(f"/api/v1/orders/{order_id}").json()
    found = [c for c in view["escalations"] if c["reason"] == reason]
    return found or None


def test_damaged_item_with_photos_label_return_parcel_and_refund(
    database_url: str, graph: GraphServer, tmp_path: Path
) -> None:
    """Damaged, two photos, refund → label PDF → return parcel delivered → refund asked (no gateway: staff)
    → refund late → refund processed with the ARN; a photo another customer reuses is flagged."""
    with LiveService(_env(database_url, graph, tmp_path / "media")) as live, api(live.url) as client:
        assert live.rt is not None
        rma, count = _open_damaged_return(client, graph, live, "shop-1001", ASHA)
        for k, data in enumerate((PHOTO_ONE, PHOTO_TWO), start=1):
            media_id = graph.add_media(data)
            _customer_says(client, ASHA, text="see this", media=("image", media_id, "image/jpeg"))
            got = _said(graph, ASHA, count + k)[-1]
            assert got["interactive"]["body"]["text"].startswith(f"Photo {k} received.")
        count += 2

        def stored() -> list[Any]:
            with live.rt.engine.connect() as conn:  # type: ignore[union-attr]
                return list(conn.execute(sa.select(return_photos).order_by(return_photos.c.id)).all())

        photos = wait_for(lambda: len(stored()) == 2 and stored())
        assert [p.sha256 for p in photos] == [hashlib.sha256(d).hexdigest() for d in (PHOTO_ONE, PHOTO_TWO)]
        assert (tmp_path / "media" / photos[0].storage_key).read_bytes() == PHOTO_ONE
        assert len(graph.media_fetches) == 2

        _customer_says(client, ASHA, choice=("button_reply", f"ret:done:{rma}", "Done"))
        offer = _said(graph, ASHA, count + 1)[-1]
        assert [b["reply"]["id"] for b in offer["interactive"]["action"]["buttons"]] == [
            f"ret:refund:{rma}",
            f"ret:replacement:{rma}",
        ]
        _customer_says(client, ASHA, choice=("button_reply", f"ret:refund:{rma}", "Refund"))
        confirm, label = _said(graph, ASHA, count + 3)[-2:]
        assert confirm["text"]["body"].endswith("will be issued within 7 days of pickup.")
        assert label["type"] == "document"
        link = label["document"]["link"]
        assert link.startswith(f"{live.url}/returns/") and link.endswith("/label.pdf")
        assert label["document"]["filename"] == f"return-{rma}.pdf"
        pdf = httpx.get(link)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
        assert rma in text and "14 Peenya Industrial Area" in text and "12 MG Road" in text
        assert httpx.get(f"{live.url}/returns/{'x' * 32}/label.pdf").status_code == 404

        # The customer hands the parcel over; Shiprocket reports the return parcel.
        ist = datetime.now(UTC).astimezone(ZoneInfo("Asia/Kolkata")).replace(tzinfo=None)
        picked = shiprocket_scan(42, "PICKED UP", ist - timedelta(hours=3), "Indiranagar")
        back = shiprocket_scan(7, "DELIVERED", ist - timedelta(hours=1), "Peenya")
        for scans in ([picked], [picked, back]):
            body = shiprocket_webhook("RET1", scans, "shop-1001", is_return=1)
            assert post_shiprocket(client, body).status_code == 200
        (case,) = wait_for(lambda: _cases(client, "shop-1001", "refund_by_hand"))
        assert (
            case["detail"]["payment_ref"] == "pay_shop-1001" and case["detail"]["amount_minor"] == "12345600"
        )
        wait_for(lambda: _to(graph, ASHA)[-1].get("template", {}).get("name") == "order_return_update")
        update = _to(graph, ASHA)[-1]["template"]["components"][0]["parameters"]
        assert update[1]["text"] == rma and update[2]["text"].startswith("We have started your refund")
        view = client.get("/api/v1/orders/shop-1001").json()
        assert view["stage"] == "delivered"
        (shown,) = view["returns"]
        assert (shown["rma"], shown["status"], len(shown["photos"])) == (rma, "refund_requested", 2)
        console = returns_app.return_view(live.rt, rma)
        assert console is not None and [p["sha256"] for p in console["photos"]] == [p.sha256 for p in photos]
        with live.rt.engine.connect() as conn:
            row = conn.execute(sa.select(returns).where(returns.c.rma == rma)).one()
        assert (row.status, row.awb, row.reason, row.resolution) == (
            "refund_requested",
            "RET1",
            "damaged",
            "refund",
        )
        assert row.refund_due is not None

        # Nothing from the gateway by the promised day: staff chase it.
        with live.rt.engine.begin() as conn:
            moved = conn.execute(
                jobs.update()
                .where(jobs.c.kind == "timer_fired", jobs.c.dedupe_key.like("%refund_late%"))
                .values(available_at=datetime.now(UTC))
            ).rowcount
        assert moved == 1
        live.rt.wake()
        (late,) = wait_for(lambda: _cases(client, "shop-1001", "refund_late"))
        assert late["detail"]["rma"] == rma

        # Staff refund by hand and the gateway (or the shop) reports it done, with the bank's reference.
        done = RefundUpdated(
            datetime.now(UTC), "rfnd_1", "processed", 12345600, "INR", "", "74123456789012345678901"
        )
        orders.submit(live.rt, "test", "refund-1", "{}", [("order:shop-1001", done)], "refund")
        wait_for(lambda: _to(graph, ASHA)[-1].get("template", {}).get("name") == "order_refund_completed")
        completed = _to(graph, ASHA)[-1]["template"]["components"][0]["parameters"]
        assert [p["text"] for p in completed][:2] == ["#1001", "₹1,23,456.00"]
        assert completed[2]["text"].startswith("Bank reference (ARN/UTR): 74123456789012345678901.")

        # Another customer shows the same photo for their own claim: flagged for staff.
        rma2, _ = _open_damaged_return(client, graph, live, "shop-2002", RAVI)
        _customer_says(client, RAVI, media=("image", graph.add_media(PHOTO_ONE), "image/jpeg"))
        (reused,) = wait_for(lambda: _cases(client, "shop-2002", "photo_reused"))
        assert reused["detail"]["other_rma"] == rma and reused["detail"]["rma"] == rma2
        assert reused["detail"]["sha256"] == hashlib.sha256(PHOTO_ONE).hexdigest()
        assert _cases(client, "shop-1001", "photo_reused") is None


def test_migration_0009_up_and_down(database_url: str) -> None:
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
        assert [d for d in diffs if "return" in repr(d)] == []
        command.downgrade(alembic_config(database_url), "0005")
        with engine.connect() as conn:
            assert "returns" not in sa.inspect(conn).get_table_names()
        command.upgrade(alembic_config(database_url), "head")
        with engine.connect() as conn:
            assert {"returns", "return_photos"} <= set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_reverse_pickup_booked_with_shiprocket(database_url: str, graph: GraphServer, tmp_path: Path) -> None:
    """With Shiprocket's API and the warehouse address configured, the return is a Shiprocket return order;
    its parcel's news (found by the return AWB) settles the return."""
    with ShiprocketServer() as sr:
        env = {
            **_env(database_url, graph, tmp_path / "media"),
            "ORDERWIRE_SHIPROCKET_API_URL": sr.url,
            "ORDERWIRE_SHIPROCKET_API_TOKEN": sr.token,
            "ORDERWIRE_RETURN_CITY": "Bengaluru",
            "ORDERWIRE_RETURN_STATE": "Karnataka",
            "ORDERWIRE_RETURN_PINCODE": "560058",
            "ORDERWIRE_RETURN_PHONE": "+91 80 4567 8900",
        }
        with LiveService(env) as live, api(live.url) as client:
            context = _delivered_order(client, graph, live, "shop-1001", ASHA)
            _customer_says(client, ASHA, context, button=("Report a problem", "problem:shop-1001"))
            rows = _said(graph, ASHA, 4)[-1]["interactive"]["action"]["sections"][0]["rows"]
            rma = rows[0]["id"].split(":")[2]
            _customer_says(client, ASHA, choice=("list_reply", f"ret:reason:{rma}:size_fit", "Size or fit"))
            _said(graph, ASHA, 5)
            _customer_says(client, ASHA, choice=("button_reply", f"ret:replacement:{rma}", "Replacement"))
            booked = _said(graph, ASHA, 7)[-1]
            assert booked["text"]["body"] == (
                f"Pickup booked for return {rma}: Delhivery Reverse will collect the parcel on Sat, 28 Nov. "
                "Please pack the item with its tags. Return tracking number: RSR900100."
            )
            (created,) = sr.returns_created
            assert created["order_id"] == rma
            assert (created["pickup_customer_name"], created["pickup_pincode"], created["pickup_phone"]) == (
                "Asha",
                "560001",
                "9812345678",
            )
            assert (
                created["shipping_customer_name"],
                created["shipping_pincode"],
                created["shipping_phone"],
            ) == (
                "Demo Shop Returns",
                "560058",
                "8045678900",
            )
            assert created["order_items"] == [
                {"name": "Cotton Kurta", "sku": "Cotton Kurta", "units": 2, "selling_price": "61728.00"}
            ]
            assert sr.awbs_assigned == [{"shipment_id": "8001", "is_return": 1}]
            ist = datetime.now(UTC).astimezone(ZoneInfo("Asia/Kolkata")).replace(tzinfo=None)
            back = shiprocket_scan(7, "DELIVERED", ist - timedelta(hours=1), "Peenya")
            body = shiprocket_webhook("RSR900100", [back], rma, is_return=1)
            assert post_shiprocket(client, body).status_code == 200
            (case,) = wait_for(lambda: _cases(client, "shop-1001", "send_replacement"))
            assert case["awb"] == "RSR900100" and case["detail"]["rma"] == rma
            wait_for(lambda: _to(graph, ASHA)[-1].get("template", {}).get("name") == "order_return_update")
            assert live.rt is not None
            with live.rt.engine.connect() as conn:
                status = conn.execute(sa.select(returns.c.status).where(returns.c.rma == rma)).scalar()
            assert status == "replacing"


def test_sandbox_photo_is_downloaded_like_graph_media(database_url: str, tmp_path: Path) -> None:
    """No WhatsApp token: a photo sent from the sandbox phone goes through the same download path."""
    env = {
        "ORDERWIRE_DATABASE_URL": database_url,
        "ORDERWIRE_API_KEY": TEST_API_KEY,
        "ORDERWIRE_QUIET_HOURS_START": "0",
        "ORDERWIRE_QUIET_HOURS_END": "0",
        "ORDERWIRE_MEDIA_DIR": str(tmp_path / "media"),
    }
    with LiveService(env) as live, api(live.url) as client:
        assert live.rt is not None and live.rt.settings.sandbox
        body = {**ORDER, "customer": {"phone": ASHA, "name": "Asha Rao"}}
        client.post("/api/v1/orders", json=body).raise_for_status()
        for event in (
            {"type": "paid", "payment_id": "pay_1"},
            {"type": "dispatched", "awb": "AWB1"},
            {"type": "delivered", "awb": "AWB1"},
        ):
            client.post("/api/v1/orders/shop-1001/events", json=event).raise_for_status()

        def chat() -> list[dict[str, Any]]:
            return sandbox.conversation(live.rt, ASHA)  # type: ignore[arg-type]

        wait_for(lambda: any("delivered" in m["body"] for m in chat()))
        form = {"phone": ASHA, "button_text": "Report a problem", "button_payload": "problem:shop-1001"}
        assert client.post("/sandbox/reply", data=form).status_code == 303
        reasons = wait_for(
            lambda: [m for m in chat() if m["buttons"] and "ret:reason:" in m["buttons"][0]["payload"]]
        )
        damaged = reasons[0]["buttons"][0]["payload"]
        assert damaged.endswith(":damaged")
        form = {
            "phone": ASHA,
            "button_text": "Damaged",
            "button_payload": damaged,
            "reply_kind": "list_reply",
        }
        assert client.post("/sandbox/reply", data=form).status_code == 303
        wait_for(lambda: any(m["body"].startswith("Please send 1 to 3 photos") for m in chat()))
        sent = client.post(
            "/sandbox/photo", data={"phone": ASHA}, files={"photo": ("kurta.jpg", PHOTO_ONE, "image/jpeg")}
        )
        assert sent.status_code == 303
        assert any(m["body"] == "📷 Photo" for m in chat())

        def stored() -> Any:
            with live.rt.engine.connect() as conn:  # type: ignore[union-attr]
                return conn.execute(sa.select(return_photos)).first()

        photo = wait_for(stored)
        assert photo.sha256 == hashlib.sha256(PHOTO_ONE).hexdigest() and photo.mime == "image/jpeg"
        wait_for(lambda: any(m["body"].startswith("Photo 1 received.") for m in chat()))
        # The sandbox's media endpoints answer only with its token, as Meta's do.
        media_id = f"{photo.sha256}.jpg"
        assert httpx.get(f"{live.url}/sandbox/graph/v23.0/{media_id}").status_code == 401
        assert httpx.get(f"{live.url}/sandbox/media/{media_id}").status_code == 404


def test_staff_refund_and_reject_from_the_console(
    database_url: str, graph: GraphServer, tmp_path: Path
) -> None:
    """Console use cases: a partial refund for a replacement return; a rejection, told to the customer."""
    with LiveService(_env(database_url, graph, tmp_path / "media")) as live, api(live.url) as client:
        assert live.rt is not None
        rt = live.rt
        rmas = []
        for order_id, phone in (("shop-1001", ASHA), ("shop-2002", RAVI)):
            context = _delivered_order(client, graph, live, order_id, phone)
            _customer_says(client, phone, context, button=("Report a problem", f"problem:{order_id}"))
            rows = _said(graph, phone, 4)[-1]["interactive"]["action"]["sections"][0]["rows"]
            rma = rows[0]["id"].split(":")[2]
            _customer_says(client, phone, choice=("list_reply", f"ret:reason:{rma}:size_fit", "Size or fit"))
            _said(graph, phone, 5)
            _customer_says(client, phone, choice=("button_reply", f"ret:replacement:{rma}", "Replacement"))
            assert _said(graph, phone, 7)[-1]["type"] == "document"
            rmas.append(rma)
        now = datetime.now(UTC)
        with rt.engine.begin() as conn:
            assert returns_app.issue_refund(conn, rt, rmas[0], now, amount_minor=500000) is True
        with rt.engine.begin() as conn:
            assert returns_app.issue_refund(conn, rt, rmas[0], now) is False  # asked already
            assert returns_app.reject_return(conn, rt, rmas[0], now, "too late") is False
            assert returns_app.reject_return(conn, rt, rmas[1], now, "The tags were removed.") is True
            with pytest.raises(returns_app.UnknownReturn):
                returns_app.approve_return(conn, rt, "RMANOSUCH000", now)
        (case,) = wait_for(lambda: _cases(client, "shop-1001", "refund_by_hand"))
        assert case["detail"]["amount_minor"] == "500000"
        wait_for(lambda: _to(graph, RAVI)[-1].get("template", {}).get("name") == "order_return_update")
        told = _to(graph, RAVI)[-1]["template"]["components"][0]["parameters"][2]["text"]
        assert told == "We could not accept it. The tags were removed."
        wait_for(lambda: _to(graph, ASHA)[-1].get("template", {}).get("name") == "order_return_update")
        assert "₹5,000.00" in _to(graph, ASHA)[-1]["template"]["components"][0]["parameters"][2]["text"]


def test_shiprocket_refusal_is_final_and_network_trouble_is_retried() -> None:
    """A 4xx from Shiprocket will not change on retry (staff case); an unreachable API may."""
    from orderwire.app.ports import VendorError
    from orderwire.integrations.shiprocket.returns import ShiprocketReturns, Warehouse
    from tests.unit.factories import order

    warehouse = Warehouse(
        "Demo Shop Returns", "14 Peenya", "Bengaluru", "Karnataka", "560058", "8045678900", 0.5, 20, 15, 10
    )
    nowhere = dataclasses.replace(order(), address=dataclasses.replace(order().address, pincode=""))
    with ShiprocketServer() as sr:
        port = ShiprocketReturns(sr.url, "", "", sr.token, warehouse)
        with pytest.raises(VendorError) as refused:
            port.book_return(nowhere, "RMAABCDEFGHI", "damaged")
        assert not refused.value.retryable and "pickup_pincode is required" in str(refused.value)
        assert sr.returns_created == []
        booked = port.book_return(order(), "RMAABCDEFGHI", "damaged")
        assert (booked.awb, booked.courier, str(booked.pickup_date)) == (
            "RSR900100",
            "Delhivery Reverse",
            "2026-11-28",
        )
    down = ShiprocketReturns(f"http://127.0.0.1:{free_port()}", "", "", "token", warehouse)
    with pytest.raises(VendorError) as unreachable:
        down.book_return(order(), "RMAABCDEFGHI", "damaged")
    assert unreachable.value.retryable


def test_media_download_limits(graph: GraphServer) -> None:
    """Too large: never downloaded, not retried. Unknown media id: refused. Meta's hash is checked."""
    from orderwire.integrations.whatsapp.media import MediaClient, MediaError

    media_id = graph.add_media(PHOTO_ONE)
    small = MediaClient(graph.url, "test-graph-token", max_bytes=10)
    with pytest.raises(MediaError) as too_large:
        small.fetch(media_id)
    assert not too_large.value.retryable and graph.media_fetches == []
    client = MediaClient(graph.url, "test-graph-token", max_bytes=1024)
    fetched = client.fetch(media_id)
    assert (fetched.data, fetched.mime, fetched.sha256) == (
        PHOTO_ONE,
        "image/jpeg",
        hashlib.sha256(PHOTO_ONE).hexdigest(),
    )
    with pytest.raises(MediaError) as unknown:
        client.fetch("999")
    assert not unknown.value.retryable
    graph.media[media_id] = (PHOTO_TWO, "image/jpeg")  # bytes changed after Meta hashed them
    graph.media_sha256[media_id] = hashlib.sha256(PHOTO_ONE).hexdigest()
    with pytest.raises(MediaError, match="sha256"):
        client.fetch(media_id)
    small.close()
    client.close()
