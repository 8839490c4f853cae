"""Who may use the console: a session cookie, a role, and a CSRF token on every state-changing request."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool

from orderwire.app import staff
from orderwire.app.staff import StaffSession
from orderwire.web.deps import RuntimeDep

COOKIE = "ow_staff"
LOGIN_COOKIE = "ow_login"  # double-submit token for the login form (there is no session yet)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class LoginRequired(Exception):
    """An anonymous request for a staff page: answered with a redirect to the login page."""

    def __init__(self, next_path: str):
        super().__init__(next_path)
        self.next_path = next_path


def secure_cookies(request: Request) -> bool:
    """Cookies are Secure when the service is published over https."""
    rt = request.app.state.runtime
    return str(rt.settings.public_url).startswith("https://")


async def _session(request: Request, rt: RuntimeDep) -> StaffSession | None:
    if not hasattr(request.state, "staff_session"):
        request.state.staff_session = await run_in_threadpool(
            staff.session_for, rt, request.cookies.get(COOKIE)
        )
    found: StaffSession | None = request.state.staff_session
    return found


async def staff_page(
    request: Request, session: Annotated[StaffSession | None, Depends(_session)]
) -> StaffSession:
    """A signed-in member of staff, or a redirect to the login page."""
    if session is None:
        raise LoginRequired(request.url.path)
    return session


async def staff_api(session: Annotated[StaffSession | None, Depends(_session)]) -> StaffSession:
    """A signed-in member of staff, or 401 (for JSON endpoints)."""
    if session is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "sign in to the console first")
    return session


async def admin_page(session: Annotated[StaffSession, Depends(staff_page)]) -> StaffSession:
    """A signed-in admin, or 403."""
    if not session.user.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admins only")
    return session


async def _sent_token(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def staff_change(
    request: Request, session: Annotated[StaffSession, Depends(staff_page)]
) -> StaffSession:
    """A signed-in member of staff whose request carries the session's CSRF token (else 403)."""
    sent = await _sent_token(request)
    if not sent or not secrets.compare_digest(sent.encode(), session.csrf_token.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")
    return session


async def admin_change(session: Annotated[StaffSession, Depends(staff_change)]) -> StaffSession:
    """An admin's state-changing request with a valid CSRF token."""
    if not session.user.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admins only")
    return session


async def login_token_ok(request: Request) -> None:
    """The login form's hidden token must match its cookie (login CSRF), compared in constant time."""
    sent = await _sent_token(request)
    kept = request.cookies.get(LOGIN_COOKIE, "")
    if not sent or not kept or not secrets.compare_digest(sent.encode(), kept.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the login form expired; reload the page")


StaffPage = Annotated[StaffSession, Depends(staff_page)]
StaffApi = Annotated[StaffSession, Depends(staff_api)]
AdminPage = Annotated[StaffSession, Depends(admin_page)]
StaffChange = Annotated[StaffSession, Depends(staff_change)]
AdminChange = Annotated[StaffSession, Depends(admin_change)]
