"""A guided demo: a few orders driven through every stage against a running Orderwire, via its API."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

CUSTOMERS = [
    {"phone": "+919812345601", "name": "Asha Rao", "language": "en"},
    {"phone": "+919812345602", "name": "Ravi Kumar", "language": "hi"},
    {"phone": "+919812345603", "name": "Meera Iyer", "language": "en"},
]


def _order(n: int, customer: dict[str, str], cod: bool) -> dict[str, Any]:
    return {
        "order_id": f"demo-{n}-{int(time.time())}",
        "number": f"#{1000 + n}",
        "currency": "INR",
        "customer": customer,
        "items": [
            {"name": "Handloom Cotton Kurta", "quantity": 2, "unit_price": 149900, "sku": "KUR-01"},
            {"name": "Block-print Dupatta", "quantity": 1, "unit_price": 89900, "sku": "DUP-07"},
        ][: 1 + n % 2],
        "shipping_address": {
            "line1": f"{12 + n} MG Road",
            "city": "Bengaluru",
            "state": "Karnataka",
            "pincode": "560001",
        },
        "payment_method": "cod" if cod else "prepaid",
    }


def run_demo(
    base_url: str, api_key: str, pause: float = 2.5, say: Callable[[str], None] = print
) -> list[str]:
    """Drive three orders through the journey (one with a failed first attempt); returns their ids."""
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:

        def post(path: str, body: dict[str, Any]) -> None:
            client.post(path, json=body).raise_for_status()

        orders = [_order(i + 1, c, cod=(i == 1)) for i, c in enumerate(CUSTOMERS)]
        ids = [o["order_id"] for o in orders]
        edd = (date.today() + timedelta(days=3)).isoformat()
        say("demo: placing 3 orders (one cash on delivery)")
        for order in orders:
            post("/api/v1/orders", order)
        time.sleep(pause)
        for oid in (ids[0], ids[2]):
            post(f"/api/v1/orders/{oid}/events", {"type": "paid", "payment_id": f"pay_{oid}"})
        say("demo: payments captured -> confirmations")
        _confirm_cod(client, ids[1], CUSTOMERS[1]["phone"], say)
        time.sleep(pause)
        for oid in ids:
            post(f"/api/v1/orders/{oid}/events", {"type": "processing"})
        time.sleep(pause)
        for n, oid in enumerate(ids):
            post(
                f"/api/v1/orders/{oid}/events",
                {
                    "type": "dispatched",
                    "awb": f"DEMO{n}{oid[-6:]}",
                    "courier": "Delhivery",
                    "expected_delivery_date": edd,
                    "location": "Bengaluru hub",
                },
            )
        say("demo: dispatched with tracking links")
        time.sleep(pause * 2)
        for n, oid in enumerate(ids):
            post(
                f"/api/v1/orders/{oid}/events",
                {
                    "type": "in_transit",
                    "awb": f"DEMO{n}{oid[-6:]}",
                    "location": "Hosur sorting centre",
                },
            )
        time.sleep(pause)
        for n, oid in enumerate(ids):
            post(
                f"/api/v1/orders/{oid}/events",
                {
                    "type": "out_for_delivery",
                    "awb": f"DEMO{n}{oid[-6:]}",
                    "window": "between 14:00 and 18:00",
                    "agent_phone": "+919800000000",
                    "location": "Indiranagar delivery centre",
                },
            )
        say("demo: out for delivery")
        time.sleep(pause * 2)
        failed = ids[1]
        post(
            f"/api/v1/orders/{failed}/events",
            {
                "type": "delivery_failed",
                "awb": f"DEMO1{failed[-6:]}",
                "reason": "customer not available",
            },
        )
        say(f"demo: first attempt failed for {failed}")
        for n, oid in ((0, ids[0]), (2, ids[2])):
            post(f"/api/v1/orders/{oid}/events", {"type": "delivered", "awb": f"DEMO{n}{oid[-6:]}"})
        time.sleep(pause * 3)
        later = datetime.now(UTC) + timedelta(seconds=1)
        post(
            f"/api/v1/orders/{failed}/events",
            {
                "type": "out_for_delivery",
                "awb": f"DEMO1{failed[-6:]}",
                "occurred_at": later.isoformat(),
            },
        )
        time.sleep(pause * 2)
        post(f"/api/v1/orders/{failed}/events", {"type": "delivered", "awb": f"DEMO1{failed[-6:]}"})
        say("demo: all delivered; skipping ahead to the follow-up")
        time.sleep(pause)
        # Skip ahead only once the deliveries are applied: their follow-up timers are set in the same
        # transaction, and a timer set after the skip would wait its real 4 days (seen on a slow machine).
        for oid in ids:
            _wait_for(client, oid, "stage", "delivered")
        client.post("/sandbox/skip-ahead", follow_redirects=False)
        time.sleep(pause)
        say(f"demo: done. Open {base_url}/sandbox to read the chats.")
        return ids


def _confirm_cod(client: httpx.Client, order_id: str, phone: str, say: Callable[[str], None]) -> None:
    """commerce: the cash-on-delivery customer taps "Confirm order" on the sandbox phone."""
    _wait_for(client, order_id, "cod_status", "awaiting")  # the order is applied in the background
    tap = {"phone": phone, "button_text": "ऑर्डर कन्फ़र्म करें", "button_payload": f"cod:confirm:{order_id}"}
    answer = client.post("/sandbox/reply", data=tap, follow_redirects=False)
    if answer.status_code == 303:
        say("demo: the cash-on-delivery customer confirmed on WhatsApp -> confirmation")
    else:
        say("demo: the cash-on-delivery order waits for the customer's confirmation on WhatsApp")


def _wait_for(client: httpx.Client, order_id: str, field: str, value: str, seconds: float = 10) -> None:
    """Wait until the order's view shows `field` == `value` (events are applied in the background)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if client.get(f"/api/v1/orders/{order_id}").json().get(field) == value:
            return
        time.sleep(0.1)
