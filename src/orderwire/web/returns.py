"""/returns/<token>/label.pdf: the printable return label sent to the customer as a WhatsApp document."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from orderwire.app import returns
from orderwire.web.deps import RuntimeDep

router = APIRouter(prefix="/returns", tags=["returns"], include_in_schema=False)


@router.get("/{token}/label.pdf")
async def label(token: str, rt: RuntimeDep) -> Response:
    """The label; the token is the only key (192 random bits), so an unknown one is simply not found."""
    if not 20 <= len(token) <= 64:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such label")
    pdf = await run_in_threadpool(returns.label_pdf, rt, token)
    if pdf is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such label")
    headers = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"}
    return Response(pdf, media_type="application/pdf", headers=headers)
