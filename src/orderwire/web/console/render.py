"""Rendering shared by the console's pages: templates, times in the shop's zone, redirects with a message."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from orderwire.app.runtime import Runtime
from orderwire.app.staff import StaffSession

templates = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")


def local(rt: Runtime, moment: datetime | None) -> str:
    """A moment in the shop's time zone, short."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(rt.policy.timezone)).strftime("%d %b %H:%M")


def age(minutes: int) -> str:
    """A case's age in words."""
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // 1440} days"


def left(delta: timedelta | None) -> str:
    """Time left in the service window, in hours and minutes."""
    if delta is None:
        return ""
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min"


def page(request: Request, name: str, session: StaffSession | None, **context: Any) -> HTMLResponse:
    """A console template with the signed-in user, the CSRF token and the formatting helpers."""
    rt: Runtime = request.app.state.runtime
    response = templates.TemplateResponse(
        request,
        name,
        {
            "me": session.user if session else None,
            "csrf": session.csrf_token if session else "",
            "local": lambda m: local(rt, m),
            "local_iso": lambda text: local(rt, datetime.fromisoformat(text)) if text else "",
            "age": age,
            "shop": rt.settings.shop_name,
            **context,
        },
    )
    # Staff pages carry customers' personal data: never framed by another site, never cached.
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    response.headers["Cache-Control"] = "no-store"
    return response


def back(path: str, message: str = "", error: str = "") -> RedirectResponse:
    """Redirect (303) to a page that shows a message or an error."""
    query = "&".join(f"{k}={quote(v)}" for k, v in (("ok", message), ("error", error)) if v)
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=status.HTTP_303_SEE_OTHER)


def safe_next(target: str) -> str:
    """Where to go after logging in: only our own console paths, never another site."""
    return target if target.startswith("/console") and not target.startswith("//") else "/console/inbox"
