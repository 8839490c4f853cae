"""A return in the staff console, through the real service: the customer completes a damaged-item return on
WhatsApp with a photo, the case reaches the inbox, staff see the photo and approve, the refund is asked of
the payment gateway (a local fake speaking Razorpay's wire format), and a second approval has nothing to do.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from orderwire.app import staff
from orderwire.store.tables import return_photos, returns, timeline
from tests.conftest import wait_for
from tests.integration.test_console import PASSWORD, _staff_client
from tests.integration.test_returns import (
    ASHA,
    PHOTO_ONE,
    _cases,
    _customer_says,
    _env,
    _open_damaged_return,
    _said,
)
from tests.support.graph_server import GraphServer
from tests.support.live import LiveService
from tests.support.payment_servers import RAZORPAY_KEY, PaymentServer

NOTHING_TO_DO = "nothing to do: the return is already past that step"


def test_staff_see_the_photo_and_approve_the_return_once(
    database_url: str, graph: GraphServer, tmp_path: Path
) -> None:
    with PaymentServer() as gateway:
        env = {
            **_env(database_url, graph, tmp_path / "media"),
            "ORDERWIRE_RAZORPAY_API_URL": gateway.url,
            "ORDERWIRE_RAZORPAY_KEY_ID": RAZORPAY_KEY[0],
            "ORDERWIRE_RAZORPAY_KEY_SECRET": RAZORPAY_KEY[1],
        }
        with LiveService(env) as live, httpx.Client(base_url=live.url, timeout=10) as anonymous:
            rt = live.rt
            assert rt is not None
            staff.create_user(rt, "agent@example.com", PASSWORD, "agent")
            staff.create_user(rt, "admin@example.com", PASSWORD, "admin")
            client = httpx.Client(
                base_url=live.url, headers={"Authorization": f"Bearer {rt.api_key}"}, timeout=10
            )

            # The customer: damaged, one photo, Done, refund.
            rma, count = _open_damaged_return(client, graph, live, "shop-1001", ASHA)
            _customer_says(client, ASHA, media=("image", graph.add_media(PHOTO_ONE), "image/jpeg"))
            assert _said(graph, ASHA, count + 1)[-1]["interactive"]["body"]["text"].startswith(
                "Photo 1 received."
            )

            def stored() -> Any:
                with rt.engine.connect() as conn:
                    return conn.execute(sa.select(return_photos)).first()

            wait_for(stored)
            assert _cases(client, "shop-1001", "return_requested") is None  # not complete yet
            _customer_says(client, ASHA, choice=("button_reply", f"ret:done:{rma}", "Done"))
            _said(graph, ASHA, count + 2)
            _customer_says(client, ASHA, choice=("button_reply", f"ret:refund:{rma}", "Refund"))
            assert _said(graph, ASHA, count + 4)[-1]["type"] == "document"  # the return label

            (case,) = wait_for(lambda: _cases(client, "shop-1001", "return_requested"))
            assert case["detail"] == {"rma": rma, "reason": "damaged", "resolution": "refund", "photos": "1"}
            case_id = case["id"]

            # Only staff see the photo.
            photo = stored()
            photo_path = f"/console/returns/{rma}/photos/{photo.id}"
            refused = anonymous.get(photo_path, follow_redirects=False)
            assert refused.status_code == 303 and refused.headers["location"].startswith("/console/login")

            http, csrf = _staff_client(live, "agent@example.com")
            inbox = http.get("/console/inbox").text
            assert f"/console/cases/{case_id}" in inbox and "Return request (see the photos)" in inbox
            page = http.get(f"/console/cases/{case_id}").text
            assert f"Return {rma} · label sent" in page and "damaged" in page
            assert re.findall(r'<img src="([^"]+)"', page) == [photo_path]
            shown = http.get(photo_path)
            assert shown.status_code == 200 and shown.content == PHOTO_ONE
            assert shown.headers["content-type"] == "image/jpeg"
            assert shown.headers["x-content-type-options"] == "nosniff"
            # Photos are found by id within this return: another RMA or id finds nothing.
            assert http.get(f"/console/returns/RMAOTHER0000/photos/{photo.id}").status_code == 404
            assert http.get(f"/console/returns/{rma}/photos/{photo.id + 1}").status_code == 404
            assert http.get(f"/console/returns/{rma}/photos/..%2F..%2Fetc").status_code in (404, 422)

            # The agent approves: the refund of the order total is asked of the gateway.
            approved = http.post(
                f"/console/returns/{rma}/approve", data={"csrf_token": csrf, "case_id": str(case_id)}
            )
            assert str(approved.url).endswith(f"/console/cases/{case_id}?ok=return%20{rma}%20approved")
            assert (
                f"return {rma} approved" in approved.text and "Refund</dt><dd>₹1,23,456.00" in approved.text
            )

            def refund_requests() -> list[Any]:
                return [r for r in gateway.requests if r.path == "/v1/payments/pay_shop-1001/refund"]

            (asked,) = wait_for(refund_requests)
            assert asked.json()["amount"] == 12345600
            with rt.engine.connect() as conn:
                row = conn.execute(sa.select(returns).where(returns.c.rma == rma)).one()
                kinds = conn.execute(sa.select(timeline.c.kind).where(timeline.c.order_pk == row.order_pk))
                assert "return_approved" in set(kinds.scalars())
            assert (row.status, row.refund_minor) == ("refund_requested", 12345600)

            # An admin may act too; approving again (or rejecting now) has nothing to do.
            boss, boss_csrf = _staff_client(live, "admin@example.com")
            for action in ("approve", "reject"):
                again = boss.post(
                    f"/console/returns/{rma}/{action}",
                    data={"csrf_token": boss_csrf, "case_id": str(case_id), "note": "late"},
                )
                flash = re.search(r"<div class=\"flash [^>]*>([^<]*)<", again.text)
                assert flash is not None and flash.group(1) == NOTHING_TO_DO, (action, flash)
            assert (
                boss.post(f"/console/returns/{rma}/ship", data={"csrf_token": boss_csrf}).status_code == 404
            )
            missing = boss.post("/console/returns/RMANOSUCH000/approve", data={"csrf_token": boss_csrf})
            assert missing.status_code == 404
            assert len(refund_requests()) == 1
            for c in (client, http, boss):
                c.close()
