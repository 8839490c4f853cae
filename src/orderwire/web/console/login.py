"""Signing in and out of the console (rate-limited, CSRF-protected login form)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from orderwire.app import staff
from orderwire.web.console import render
from orderwire.web.console.auth import (
    COOKIE,
    LOGIN_COOKIE,
    StaffChange,
    login_token_ok,
    secure_cookies,
)
from orderwire.web.deps import RuntimeDep

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/console/inbox", error: str = "") -> HTMLResponse:
    """The login page (sets the login form's one-time token)."""
    token = secrets.token_urlsafe(32)
    response = render.page(
        request, "console/login.html", None, login_token=token, next=render.safe_next(next), error=error
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
        refused = render.page(
            request,
            "console/login.html",
            None,
            login_token=request.cookies.get(LOGIN_COOKIE, ""),
            next=render.safe_next(next),
            error=str(exc),
        )
        refused.status_code = status.HTTP_429_TOO_MANY_REQUESTS
        return refused
    except staff.LoginError as exc:
        return render.back("/console/login", error=str(exc))
    response = RedirectResponse(render.safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
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
    response = render.back("/console/login")
    response.delete_cookie(COOKIE, path="/")
    return response
