"""A return's photos for staff, and what staff decide: approve, reject (with a note), issue the refund."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, status
from fastapi.responses import RedirectResponse, Response

from orderwire.app import cases, returns
from orderwire.web.console import render
from orderwire.web.console.auth import StaffChange, StaffPage
from orderwire.web.deps import RuntimeDep

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
# Served inline only as these; anything else the customer sent is a download, never rendered on our origin.
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
DONE = {"approve": "approved", "reject": "rejected", "refund": "refund asked for"}
NOTHING_TO_DO = "nothing to do: the return is already past that step"


@router.get("/returns/{rma}/photos/{photo_id}")
def photo(rt: RuntimeDep, session: StaffPage, rma: str, photo_id: int) -> Response:
    """A photo the customer sent for the return, looked up by id within this shop's return."""
    found = cases.return_photo(rt, rma, photo_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such photo")
    data, mime = found
    kind = mime.split(";")[0].strip().lower()
    headers = {
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'",
    }
    if kind not in IMAGE_TYPES:
        kind = "application/octet-stream"
        headers["Content-Disposition"] = f'attachment; filename="photo-{photo_id}"'
    return Response(data, media_type=kind, headers=headers)


@router.post("/returns/{rma}/{action}")
def decide(
    rt: RuntimeDep,
    session: StaffChange,
    rma: str,
    action: str,
    case_id: Annotated[str, Form()] = "",
    note: Annotated[str, Form(max_length=300)] = "",
) -> RedirectResponse:
    """Approve or reject the return, or issue its refund (any member of staff)."""
    if action not in cases.RETURN_ACTIONS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such return action")
    back = f"/console/cases/{case_id}" if case_id.isdigit() else "/console/inbox"
    try:
        done = cases.act_on_return(rt, rma, action, note)
    except returns.UnknownReturn as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such return") from exc
    except ValueError as exc:  # e.g. an order whose total cannot be refunded
        return render.back(back, error=str(exc))
    if not done:
        return render.back(back, error=NOTHING_TO_DO)
    return render.back(back, f"return {rma} {DONE[action]}")
