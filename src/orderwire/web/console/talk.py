"""A customer's conversation: the thread, replies, templates and NDR requests."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from orderwire.app import staff_conversation
from orderwire.web.console import render
from orderwire.web.console.auth import (
    StaffChange,
    StaffPage,
)
from orderwire.web.deps import RuntimeDep

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def conversation_page(request: Request, rt: RuntimeDep, session: StaffPage, order_id: str) -> HTMLResponse:
    """The customer's whole thread, the order's timeline, the window, and the reply forms."""
    talk = staff_conversation.conversation(rt, order_id)
    if talk is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown order")
    return render.page(
        request,
        "console/conversation.html",
        session,
        case=None,
        talk=talk,
        left=render.left(talk.window_left),
        ok=request.query_params.get("ok", ""),
        error=request.query_params.get("error", ""),
    )


@router.get("/orders/{order_id}/thread", response_class=HTMLResponse)
def thread(request: Request, rt: RuntimeDep, session: StaffPage, order_id: str) -> HTMLResponse:
    """The thread alone (the page polls it for new messages and ticks)."""
    talk = staff_conversation.conversation(rt, order_id)
    if talk is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown order")
    return render.page(request, "console/_thread.html", session, talk=talk)


def _back_to(case_id: str, order_id: str) -> str:
    return f"/console/cases/{case_id}" if case_id.isdigit() else f"/console/orders/{quote(order_id, safe='')}"


@router.post("/orders/{order_id}/reply")
def reply(
    rt: RuntimeDep,
    session: StaffChange,
    order_id: str,
    text: Annotated[str, Form()],
    case_id: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """Free text to the customer, only inside the 24-hour window (checked again here)."""
    try:
        staff_conversation.reply_text(rt, order_id, text, session.user.id)
    except staff_conversation.ReplyRefused as exc:
        return render.back(_back_to(case_id, order_id), error=str(exc))
    return render.back(_back_to(case_id, order_id), "reply queued")


@router.post("/orders/{order_id}/template")
def template(
    rt: RuntimeDep,
    session: StaffChange,
    order_id: str,
    kind: Annotated[str, Form()],
    case_id: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """An approved template, when it can be delivered for this order now."""
    try:
        staff_conversation.send_template(rt, order_id, kind, session.user.id)
    except staff_conversation.ReplyRefused as exc:
        return render.back(_back_to(case_id, order_id), error=str(exc))
    return render.back(_back_to(case_id, order_id), "template queued")


@router.post("/orders/{order_id}/ndr")
def ndr_action(
    rt: RuntimeDep,
    session: StaffChange,
    order_id: str,
    action: Annotated[str, Form()],
    reattempt_on: Annotated[str, Form()] = "",
    address1: Annotated[str, Form()] = "",
    address2: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    case_id: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """Request a re-attempt or a change of address from the courier, as the bot does."""
    back = _back_to(case_id, order_id)
    try:
        day = date.fromisoformat(reattempt_on) if reattempt_on else None
        queued = staff_conversation.request_courier_action(
            rt, order_id, session.user.id, action, day, address1, address2, phone
        )
    except (ValueError, staff_conversation.ReplyRefused) as exc:
        return render.back(back, error=str(exc))
    if not queued:
        return render.back(back, error="a request for this failed attempt was already sent to the courier")
    return render.back(back, "request queued for the courier")
