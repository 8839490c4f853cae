"""Vendor webhooks: verify on the raw bytes, store, acknowledge. Work happens after, off the request."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from orderwire.app import inbound, metrics
from orderwire.app.conversations import record_whatsapp_delivery
from orderwire.integrations.base import PayloadError
from orderwire.integrations.whatsapp import webhook as wa
from orderwire.web.deps import RuntimeDep

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.get("/whatsapp", response_class=PlainTextResponse)
def whatsapp_handshake(
    rt: RuntimeDep,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> str:
    """Meta's subscription check: echo hub.challenge when the verify token matches."""
    answer = wa.handshake(mode, token, challenge, rt.verify_token)
    if answer is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "verification failed")
    return answer


@router.post("/whatsapp")
async def whatsapp_events(request: Request, rt: RuntimeDep) -> dict[str, str]:
    """Statuses and customer messages from the Cloud API, signed with the app secret."""
    raw = await request.body()
    if not wa.verify(rt.app_secret, request.headers.get(wa.SIGNATURE_HEADER), raw):
        metrics.record_webhook("whatsapp", accepted=False)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "bad X-Hub-Signature-256")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        metrics.record_webhook("whatsapp", accepted=False)
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "body is not JSON") from exc
    try:
        parsed: wa.Parsed | None = wa.parse(body)
        note = ""
    except PayloadError as exc:
        parsed, note = None, f"unrecognised: {exc}"  # well signed: keep it, acknowledge it
    await run_in_threadpool(record_whatsapp_delivery, rt, raw, parsed, note)
    metrics.record_webhook("whatsapp", accepted=True)
    return {"status": "ok"}


@router.post("/{vendor}")
async def vendor_events(vendor: str, request: Request, rt: RuntimeDep) -> dict[str, str]:
    """Courier, aggregator and shop webhooks (see README: one path per vendor), verified, stored, then 200."""
    found = inbound.vendor_for(rt, vendor)
    if found is None:
        metrics.record_webhook("unknown", accepted=False)  # never the path itself: unbounded labels
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown webhook vendor")
    secret = inbound.secret_for(rt, found)
    if not secret:  # fail closed: an unconfigured vendor accepts nothing
        metrics.record_webhook(found.adapter.name, accepted=False)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"{found.adapter.name} webhook not configured")
    raw = await request.body()
    # Unsigned but allowed: only what the vendor's `unsigned` recognises exactly (WooCommerce's ping).
    delivery = found.unsigned(request.headers, raw) if found.unsigned is not None else None
    if delivery is None:
        if not found.adapter.verify(secret, request.headers, raw, rt.clock()):
            metrics.record_webhook(found.adapter.name, accepted=False)
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "bad signature or token")
        try:
            delivery = found.adapter.parse(request.headers, raw)
        except PayloadError as exc:
            metrics.record_webhook(found.adapter.name, accepted=False)
            raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
    await run_in_threadpool(inbound.record, rt, found, raw, delivery)
    metrics.record_webhook(found.adapter.name, accepted=True)
    return {"status": "ok"}
