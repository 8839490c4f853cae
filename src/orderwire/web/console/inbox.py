"""The escalation inbox, case pages (assign, resolve, notes) and the JSON the pages poll."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from orderwire.app import cases, escalations, staff, staff_conversation
from orderwire.web.console import render
from orderwire.web.console.auth import (
    StaffApi,
    StaffChange,
    StaffPage,
)
from orderwire.web.deps import RuntimeDep

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)


@router.get("", response_class=HTMLResponse)
def home(session: StaffPage) -> RedirectResponse:
    """The console starts at the inbox."""
    return RedirectResponse("/console/inbox", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/inbox", response_class=HTMLResponse)
def inbox(
    request: Request,
    rt: RuntimeDep,
    session: StaffPage,
    reason: str = "",
    case_status: Annotated[str, Query(alias="status")] = "open",
    assignee: str = "",
    partial: bool = False,
) -> HTMLResponse:
    """Open cases (or the filtered ones), oldest first, with their age against the target."""
    wanted = cases.InboxFilter(reason, case_status if case_status in cases.STATUSES else "open", assignee)
    rows = cases.inbox(rt, wanted, session.user.id)
    context = {
        "cases": rows,
        "filter": wanted,
        "reasons": [(r, cases.reason_words(r)) for r in cases.reasons_in_use(rt)],
        "users": [u for u in staff.list_users(rt) if not u["disabled"]],
        "target": rt.settings.case_target_minutes,
        "query": request.url.query,
    }
    name = "console/_inbox_rows.html" if partial else "console/inbox.html"
    return render.page(request, name, session, **context)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, rt: RuntimeDep, session: StaffPage, case_id: int) -> HTMLResponse:
    """One case: what it is about, its notes, assignment, and the customer's conversation beside it."""
    found = cases.case(rt, case_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case")
    talk = staff_conversation.conversation(rt, found["order_id"])
    return render.page(
        request,
        "console/case.html",
        session,
        case=found,
        talk=talk,
        left=render.left(talk.window_left if talk else None),
        users=[u for u in staff.list_users(rt) if not u["disabled"]],
        ret=cases.case_return(rt, found["detail"]),
        ok=request.query_params.get("ok", ""),
        error=request.query_params.get("error", ""),
    )


@router.post("/cases/{case_id}/assign")
def assign(
    rt: RuntimeDep, session: StaffChange, case_id: int, assignee: Annotated[str, Form()] = ""
) -> RedirectResponse:
    """Give the case to a member of staff ('me', a user id, or nobody)."""
    user_id = session.user.id if assignee == "me" else int(assignee) if assignee.isdigit() else None
    if not cases.assign(rt, case_id, user_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case or user")
    return render.back(f"/console/cases/{case_id}", "assigned")


@router.post("/cases/{case_id}/resolve")
def resolve(rt: RuntimeDep, session: StaffChange, case_id: int) -> RedirectResponse:
    """Close the case."""
    if not escalations.resolve(rt, case_id, by=session.user.id):
        return render.back(f"/console/cases/{case_id}", error="the case is not open")
    return render.back(f"/console/cases/{case_id}", "resolved")


@router.post("/cases/{case_id}/notes")
def add_note(
    rt: RuntimeDep, session: StaffChange, case_id: int, body: Annotated[str, Form()]
) -> RedirectResponse:
    """An internal note (never sent to the customer)."""
    if not cases.add_note(rt, case_id, session.user.id, body):
        return render.back(f"/console/cases/{case_id}", error="empty note or no such case")
    return render.back(f"/console/cases/{case_id}", "note added")


@router.get("/api/pulse")
def pulse(rt: RuntimeDep, session: StaffApi, order_id: str = "") -> dict[str, Any]:
    """Open cases, the newest case id and (for one order) the newest message id."""
    result = cases.pulse(rt)
    if order_id:
        result["newest_message"] = staff_conversation.newest_message_id(rt, order_id)
    return result


@router.get("/api/cases")
def cases_json(
    rt: RuntimeDep, session: StaffApi, status_filter: Annotated[str, Query(alias="status")] = "open"
) -> list[dict[str, Any]]:
    """Cases as JSON (the inbox's data)."""
    wanted = cases.InboxFilter(status=status_filter if status_filter in cases.STATUSES else "open")
    return [
        {
            **c,
            "created_at": c["created_at"].isoformat(),
            "resolved_at": c["resolved_at"].isoformat() if c["resolved_at"] else None,
        }
        for c in cases.inbox(rt, wanted, session.user.id)
    ]
