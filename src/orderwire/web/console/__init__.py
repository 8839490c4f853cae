"""The staff console (/console) and the /metrics endpoint, installed on the app by `install`."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from orderwire.app import metrics
from orderwire.integrations.signatures import equal
from orderwire.web.console import admin, inbox, login, returns, talk
from orderwire.web.console.auth import LoginRequired
from orderwire.web.deps import RuntimeDep

_bearer = HTTPBearer(auto_error=False)
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


def install(app: FastAPI) -> None:
    """Add the console's routes, its login redirect, and GET /metrics."""
    for part in (login, inbox, talk, returns, admin):
        app.include_router(part.router)

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse(
            f"/console/login?next={quote(exc.next_path, safe='/')}", status_code=status.HTTP_303_SEE_OTHER
        )

    @app.get("/metrics", tags=["service"], include_in_schema=False)
    async def prometheus_metrics(
        rt: RuntimeDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> Response:
        """Prometheus text format; needs the API key as a bearer token unless ORDERWIRE_METRICS_PUBLIC."""
        if not rt.settings.metrics_public and (
            credentials is None or not equal(credentials.credentials, rt.api_key)
        ):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "missing or wrong API key",
                headers={"WWW-Authenticate": "Bearer"},
            )
        body = await run_in_threadpool(metrics.exposition, rt)
        return Response(body, media_type=PROMETHEUS_TEXT)
