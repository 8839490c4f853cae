"""The outbound delivery log (/api/v1/webhook-deliveries): what was sent where, and what failed."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status

from orderwire.app import outbound
from orderwire.web.deps import RowId, RuntimeDep, require_api_key

router = APIRouter(prefix="/api/v1", tags=["outbound"], dependencies=[Depends(require_api_key)])


@router.get("/webhook-deliveries")
def list_deliveries(
    rt: RuntimeDep,
    delivery_status: Annotated[
        Literal["pending", "delivered", "failed"] | None, Query(alias="status")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Outbound webhook and CRM deliveries, newest first (filter by status: pending, delivered, failed)."""
    return outbound.deliveries(rt, delivery_status, limit)


@router.post("/webhook-deliveries/{delivery_id}/retry", status_code=status.HTTP_204_NO_CONTENT)
def retry_delivery(delivery_id: RowId, rt: RuntimeDep) -> None:
    """Send a failed delivery again, under the same webhook-id (e.g. after the receiver was fixed)."""
    if not outbound.retry(rt, delivery_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such failed delivery")
