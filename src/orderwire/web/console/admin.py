"""Admins only: the dashboard and staff users."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from orderwire.app import dashboard, reports, staff
from orderwire.web.console import charts, render
from orderwire.web.console.auth import (
    AdminChange,
    AdminPage,
)
from orderwire.web.deps import RuntimeDep

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(
    request: Request, rt: RuntimeDep, session: AdminPage, start: str = "", end: str = "", days: int = 7
) -> HTMLResponse:
    """The numbers for a period (default: the last 7 days), with server-rendered SVG charts."""
    zone = ZoneInfo(rt.policy.timezone)
    today = rt.clock().astimezone(zone).date()
    try:
        last = date.fromisoformat(end) if end else today
        first = date.fromisoformat(start) if start else last - timedelta(days=max(1, min(days, 366)) - 1)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "dates are YYYY-MM-DD") from exc
    period = dashboard.Period(
        datetime.combine(first, time(0), zone).astimezone(UTC),
        datetime.combine(last + timedelta(days=1), time(0), zone).astimezone(UTC),
    )
    f = dashboard.figures(rt, period)
    series = ("sent", "delivered", "read", "failed")
    svg = {
        "stages": charts.bars(f["orders_by_stage"], "orders by stage"),
        "messages": charts.grouped(f["messages_by_kind"], series, "messages by stage"),
        "latency": charts.latency(
            f["confirmation"]["p50"], f["confirmation"]["p95"], dashboard.PROMISE_SECONDS
        ),
        "ndr": charts.bars(f["ndr"], "NDR funnel"),
        "ratings": charts.bars([(f"{s} ★", n) for s, n in f["ratings"]["by_score"]], "ratings"),
        "cost": charts.bars(
            [(c["category"], c["delivered"]) for c in f["cost"]["lines"]], "delivered by category"
        ),
    }
    couriers = reports.ndr_report(rt).get("courier", {})
    return render.page(
        request, "console/dashboard.html", session, f=f, svg=svg, first=first, last=last, couriers=couriers
    )


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, rt: RuntimeDep, session: AdminPage) -> HTMLResponse:
    """Staff users; admins add and disable them."""
    return render.page(
        request,
        "console/users.html",
        session,
        users=staff.list_users(rt),
        ok=request.query_params.get("ok", ""),
        error=request.query_params.get("error", ""),
    )


@router.post("/users")
def create_user(
    rt: RuntimeDep,
    session: AdminChange,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    role: Annotated[str, Form()] = "agent",
    name: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """Add a member of staff."""
    try:
        staff.create_user(rt, email, password, role, name)
    except staff.UserError as exc:
        return render.back("/console/users", error=str(exc))
    return render.back("/console/users", "user created")


@router.post("/users/{user_id}/disable")
def disable_user(rt: RuntimeDep, session: AdminChange, user_id: int) -> RedirectResponse:
    """Disable a user and end their sessions (not yourself)."""
    if user_id == session.user.id:
        return render.back("/console/users", error="you cannot disable yourself")
    if not staff.set_disabled(rt, user_id, True):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such user")
    return render.back("/console/users", "user disabled")


@router.post("/users/{user_id}/enable")
def enable_user(rt: RuntimeDep, session: AdminChange, user_id: int) -> RedirectResponse:
    """Let a disabled user sign in again."""
    if not staff.set_disabled(rt, user_id, False):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such user")
    return render.back("/console/users", "user enabled")
