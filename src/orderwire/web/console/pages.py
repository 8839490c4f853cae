"""The console's pages and forms: login, inbox, case, conversation, dashboard, users, and the poll API."""

from __future__ import annotations

import importlib
import secrets
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from orderwire.app import cases, conversation, dashboard, escalations, staff
from orderwire.app.runtime import Runtime
from orderwire.app.staff import StaffSession
from orderwire.web.console import charts
from orderwire.web.console.auth import (
    COOKIE,
    LOGIN_COOKIE,
    AdminChange,
    AdminPage,
    StaffApi,
    StaffChange,
    StaffPage,
    login_token_ok,
    secure_cookies,
)
from orderwire.web.deps import RuntimeDep

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")
RETURN_ACTIONS = {"approve": "approve_return", "reject": "reject_return", "refund": "issue_refund"}


def returns_module() -> ModuleType | None:
    """app/returns.py when the returns feature is installed with the functions the buttons call."""
    try:
        module = importlib.import_module("orderwire.app.returns")
    except ModuleNotFoundError:
        return None
    return module if all(hasattr(module, f) for f in RETURN_ACTIONS.values()) else None


def _local(rt: Runtime, moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(rt.policy.timezone)).strftime("%d %b %H:%M")


def _age(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // 1440} days"


def _left(delta: timedelta | None) -> str:
    if delta is None:
        return ""
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min"


def _page(request: Request, name: str, session: StaffSession | None, **context: Any) -> HTMLResponse:
    rt: Runtime = request.app.state.runtime
    return templates.TemplateResponse(
        request,
        name,
        {
            "me": session.user if session else None,
            "csrf": session.csrf_token if session else "",
            "local": lambda m: _local(rt, m),
            "local_iso": lambda text: _local(rt, datetime.fromisoformat(text)) if text else "",
            "age": _age,
            "shop": rt.settings.shop_name,
            **context,
        },
    )


def _back(path: str, message: str = "", error: str = "") -> RedirectResponse:
    query = "&".join(f"{k}={quote(v)}" for k, v in (("ok", message), ("error", error)) if v)
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=status.HTTP_303_SEE_OTHER)


def _safe_next(target: str) -> str:
    # Only our own console paths: never an open redirect to another site.
    return target if target.startswith("/console") and not target.startswith("//") else "/console/inbox"


# --- signing in and out ---


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/console/inbox", error: str = "") -> HTMLResponse:
    """The login page (sets the login form's one-time token)."""
    token = secrets.token_urlsafe(32)
    response = _page(
        request, "console/login.html", None, login_token=token, next=_safe_next(next), error=error
    )
    response.set_cookie(
        LOGIN_COOKIE, token, httponly=True, samesite="lax", secure=secure_cookies(request), path="/console"
    )
    return response


@router.post("/login")
async def login(
    request: Request,
    rt: RuntimeDep,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/console/inbox",
) -> Response:
    """Check the credentials (rate-limited) and start a session."""
    await login_token_ok(request)
    client = request.client.host if request.client else ""
    try:
        cookie, _ = await run_in_threadpool(staff.log_in, rt, email, password, client)
    except staff.TooManyAttempts as exc:
        refused = _page(
            request,
            "console/login.html",
            None,
            login_token=request.cookies.get(LOGIN_COOKIE, ""),
            next=_safe_next(next),
            error=str(exc),
        )
        refused.status_code = status.HTTP_429_TOO_MANY_REQUESTS
        return refused
    except staff.LoginError as exc:
        return _back("/console/login", error=str(exc))
    response = RedirectResponse(_safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        COOKIE,
        cookie,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
        max_age=rt.settings.staff_session_hours * 3600,
    )
    response.delete_cookie(LOGIN_COOKIE, path="/console")
    return response


@router.post("/logout")
def logout(request: Request, rt: RuntimeDep, session: StaffChange) -> RedirectResponse:
    """End this session."""
    staff.log_out(rt, request.cookies.get(COOKIE))
    response = _back("/console/login")
    response.delete_cookie(COOKIE, path="/")
    return response


# --- inbox and cases ---


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
    return _page(request, name, session, **context)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, rt: RuntimeDep, session: StaffPage, case_id: int) -> HTMLResponse:
    """One case: what it is about, its notes, assignment, and the customer's conversation beside it."""
    found = cases.case(rt, case_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case")
    talk = conversation.conversation(rt, found["order_id"])
    return _page(
        request,
        "console/case.html",
        session,
        case=found,
        talk=talk,
        left=_left(talk.window_left if talk else None),
        users=[u for u in staff.list_users(rt) if not u["disabled"]],
        returns_enabled=returns_module() is not None,
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
    return _back(f"/console/cases/{case_id}", "assigned")


@router.post("/cases/{case_id}/resolve")
def resolve(rt: RuntimeDep, session: StaffChange, case_id: int) -> RedirectResponse:
    """Close the case."""
    if not escalations.resolve(rt, case_id, by=session.user.id):
        return _back(f"/console/cases/{case_id}", error="the case is not open")
    return _back(f"/console/cases/{case_id}", "resolved")


@router.post("/cases/{case_id}/notes")
def add_note(
    rt: RuntimeDep, session: StaffChange, case_id: int, body: Annotated[str, Form()]
) -> RedirectResponse:
    """An internal note (never sent to the customer)."""
    if not cases.add_note(rt, case_id, session.user.id, body):
        return _back(f"/console/cases/{case_id}", error="empty note or no such case")
    return _back(f"/console/cases/{case_id}", "note added")


# --- conversations ---


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def conversation_page(request: Request, rt: RuntimeDep, session: StaffPage, order_id: str) -> HTMLResponse:
    """The customer's whole thread, the order's timeline, the window, and the reply forms."""
    talk = conversation.conversation(rt, order_id)
    if talk is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown order")
    return _page(
        request,
        "console/conversation.html",
        session,
        case=None,
        talk=talk,
        left=_left(talk.window_left),
        returns_enabled=returns_module() is not None,
        ok=request.query_params.get("ok", ""),
        error=request.query_params.get("error", ""),
    )


@router.get("/orders/{order_id}/thread", response_class=HTMLResponse)
def thread(request: Request, rt: RuntimeDep, session: StaffPage, order_id: str) -> HTMLResponse:
    """The thread alone (the page polls it for new messages and ticks)."""
    talk = conversation.conversation(rt, order_id)
    if talk is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown order")
    return _page(request, "console/_thread.html", session, talk=talk)


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
        conversation.reply_text(rt, order_id, text, session.user.id)
    except conversation.ReplyRefused as exc:
        return _back(_back_to(case_id, order_id), error=str(exc))
    return _back(_back_to(case_id, order_id), "reply queued")


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
        conversation.send_template(rt, order_id, kind, session.user.id)
    except conversation.ReplyRefused as exc:
        return _back(_back_to(case_id, order_id), error=str(exc))
    return _back(_back_to(case_id, order_id), "template queued")


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
        queued = conversation.request_courier_action(
            rt, order_id, session.user.id, action, day, address1, address2, phone
        )
    except (ValueError, conversation.ReplyRefused) as exc:
        return _back(back, error=str(exc))
    if not queued:
        return _back(back, error="a request for this failed attempt was already sent to the courier")
    return _back(back, "request queued for the courier")


@router.post("/returns/{return_id}/{action}")
def return_action(
    rt: RuntimeDep, session: StaffChange, return_id: int, action: str, case_id: Annotated[str, Form()] = ""
) -> RedirectResponse:
    """Approve or reject a return, or issue its refund, through app/returns.py (when installed)."""
    module = returns_module()
    if module is None or action not in RETURN_ACTIONS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "returns are not available")
    getattr(module, RETURN_ACTIONS[action])(rt, return_id, session.user.id)
    back = f"/console/cases/{case_id}" if case_id.isdigit() else "/console/inbox"
    return _back(back, f"return {action} done")


# --- dashboard ---


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
    return _page(request, "console/dashboard.html", session, f=f, svg=svg, first=first, last=last)


# --- users (admins) ---


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, rt: RuntimeDep, session: AdminPage) -> HTMLResponse:
    """Staff users; admins add and disable them."""
    return _page(
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
        return _back("/console/users", error=str(exc))
    return _back("/console/users", "user created")


@router.post("/users/{user_id}/disable")
def disable_user(rt: RuntimeDep, session: AdminChange, user_id: int) -> RedirectResponse:
    """Disable a user and end their sessions (not yourself)."""
    if user_id == session.user.id:
        return _back("/console/users", error="you cannot disable yourself")
    if not staff.set_disabled(rt, user_id, True):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such user")
    return _back("/console/users", "user disabled")


@router.post("/users/{user_id}/enable")
def enable_user(rt: RuntimeDep, session: AdminChange, user_id: int) -> RedirectResponse:
    """Let a disabled user sign in again."""
    if not staff.set_disabled(rt, user_id, False):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such user")
    return _back("/console/users", "user enabled")


# --- staff JSON API (polled by the pages) ---


@router.get("/api/pulse")
def pulse(rt: RuntimeDep, session: StaffApi, order_id: str = "") -> dict[str, Any]:
    """Open cases, the newest case id and (for one order) the newest message id."""
    result = cases.pulse(rt)
    if order_id:
        result["newest_message"] = conversation.newest_message_id(rt, order_id)
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
