"""The generic order API (/api/v1): what any OMS, ERP or custom shop uses."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool

from orderwire.app import escalations, orders, reports, templates, views
from orderwire.web.deps import RowId, RuntimeDep, require_api_key
from orderwire.web.schemas import Accepted, EventIn, OrderIn, to_canonical

router = APIRouter(prefix="/api/v1", tags=["orders"], dependencies=[Depends(require_api_key)])


def _dedupe_key(request: Request, event_id: str, raw: bytes, scope: str) -> str:
    explicit = request.headers.get("idempotency-key") or event_id
    return f"{scope}:{explicit}" if explicit else f"{scope}:sha256:{hashlib.sha256(raw).hexdigest()}"


@router.post("/orders", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def create_order(order: OrderIn, request: Request, rt: RuntimeDep) -> Accepted:
    """Create or update an order by the shop's order id. Confirmation follows on payment (COD: now)."""
    try:
        event = order.to_event(rt.clock())
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    raw = await request.body()
    key = _dedupe_key(request, "", raw, f"order:{order.order_id}")
    result = await run_in_threadpool(
        orders.submit, rt, "api", key, raw.decode(), [(f"order:{order.order_id}", event)], "order"
    )
    return Accepted(duplicate=result.duplicate)


@router.post("/orders/{order_id}/events", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def add_event(
    order_id: str, body: Annotated[EventIn, Body()], request: Request, rt: RuntimeDep
) -> Accepted:
    """Record what happened to an order; an order not known yet gets it when it arrives."""
    try:
        event = to_canonical(body, rt.clock())
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    raw = await request.body()
    key = _dedupe_key(request, body.event_id, raw, f"event:{order_id}")
    result = await run_in_threadpool(
        orders.submit, rt, "api", key, raw.decode(), [(f"order:{order_id}", event)], body.type
    )
    return Accepted(duplicate=result.duplicate)


@router.get("/orders/{order_id}")
def get_order(order_id: str, rt: RuntimeDep) -> dict[str, Any]:
    """The order's stage, timeline and messages with their delivery statuses."""
    view = views.order_view(rt, order_id)
    if view is None:
        waiting = views.pending_events(rt, order_id)
        detail = f"unknown order; {waiting} event(s) wait for it" if waiting else "unknown order"
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail)
    return view


@router.get("/escalations")
def list_escalations(rt: RuntimeDep) -> list[dict[str, Any]]:
    """Open cases waiting for staff (an NDR choice to push by hand, no answer, a missed re-attempt)."""
    return escalations.open_cases(rt)


@router.post("/escalations/{case_id}/resolve", status_code=status.HTTP_204_NO_CONTENT)
def resolve_escalation(case_id: RowId, rt: RuntimeDep) -> None:
    """Staff dealt with the case: it leaves the open list."""
    if not escalations.resolve(rt, case_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such open escalation")


@router.get("/reports/ndr")
def ndr_report(rt: RuntimeDep) -> dict[str, Any]:
    """Failed-delivery figures per courier and per PIN code (NDR rate, re-attempt success, fake attempts)."""
    return reports.ndr_report(rt)


@router.get("/templates", tags=["templates"])
def list_templates(rt: RuntimeDep) -> list[dict[str, Any]]:
    """Each catalogue template with its status and category per language, as Meta last reported them."""
    return templates.overview(rt)
