"""Pushing the customer's NDR choice to the courier, durably: a `jobs` row per parcel and failed attempt.

The dialogue (orderwire.bot.ndr) asks; this module delivers the request to Shiprocket's NDR action API
as a vendor call (app/vendor_calls.py: outside the order's transaction, retried with backoff, the outcome
on the order's timeline).
Without Shiprocket's API configured (the sandbox, or a courier we cannot reach) the choice is recorded and
flagged for staff to push by hand rather than pretending it was sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from orderwire.app import vendor_calls
from orderwire.app.ports import VendorError
from orderwire.app.runtime import Runtime
from orderwire.bot.turn import CourierRequest
from orderwire.integrations.shiprocket.api import ShiprocketApi, ShiprocketApiError

KIND = "courier_action"

_apis: dict[int, ShiprocketApi | None] = {}


def api_for(rt: Runtime) -> ShiprocketApi | None:
    """One Shiprocket client per runtime, or None when its API is not configured."""
    if id(rt) not in _apis:
        s = rt.settings
        if not s.shiprocket_polling:
            _apis[id(rt)] = None
        else:
            password = s.shiprocket_api_password.get_secret_value() if s.shiprocket_api_password else ""
            token = s.shiprocket_api_token.get_secret_value() if s.shiprocket_api_token else ""
            _apis[id(rt)] = ShiprocketApi(
                s.shiprocket_api_url, s.shiprocket_api_email, password, token, rt.clock
            )
    return _apis[id(rt)]


def close(rt: Runtime) -> None:
    """Release this runtime's Shiprocket client, if one was made."""
    api = _apis.pop(id(rt), None)
    if api is not None:
        api.close()


def request(
    conn: sa.Connection, rt: Runtime, order_id: str, order_pk: int, req: CourierRequest, now: datetime
) -> None:
    """Queue the request in the caller's transaction; once per (order, AWB, failed attempt)."""
    body = {"action": req.action, "comments": req.comments}
    if req.deferred_date is not None:
        body["deferred_date"] = req.deferred_date.isoformat()
    body |= {
        k: v for k, v in (("phone", req.phone), ("address1", req.address1), ("address2", req.address2)) if v
    }
    vendor_calls.queue(
        conn,
        rt,
        KIND,
        order_id=order_id,
        order_pk=order_pk,
        payload={"awb": req.awb, "attempt": req.attempt, "action": req.action, "body": body},
        dedupe_key=f"ndr:{order_pk}:{req.awb}:{req.attempt}",
        now=now,
    )


def _push(rt: Runtime, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    awb, body = str(payload["awb"]), dict(payload["body"])
    api = api_for(rt)
    if api is None:
        raise vendor_calls.NotConfigured(
            f"NDR {awb}: courier API not configured; push {body['action']} by hand"
        )
    try:
        answer = api.ndr_action(awb, body)
    except ShiprocketApiError as exc:
        raise VendorError(f"NDR {awb}: courier refused {body['action']} ({exc})") from exc
    return f"NDR {awb}: courier accepted {body['action']}", answer


vendor_calls.register(
    KIND,
    vendor_calls.Performer(_push, unconfigured_reason="push_to_courier", refused_reason="courier_refused"),
)
