"""The FastAPI application: routers, health check, and the service's start and stop."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from orderwire import __version__
from orderwire.app.runtime import Runtime
from orderwire.bootstrap import Service, build_runtime
from orderwire.settings import Settings
from orderwire.web import api, console, outbound_api, sandbox, tracking, webhooks
from orderwire.web import returns as return_labels  # returns
from orderwire.web.limits import BodyLimit, PublicRateLimit

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


def create_app(
    settings: Settings | None = None, runtime: Runtime | None = None, with_worker: bool = True
) -> FastAPI:
    """Build the app; unless a separate worker process does it, the pump and the sender run in this one."""
    rt = runtime or build_runtime(settings or Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not with_worker:
            yield
            return
        service = Service(rt)
        await run_in_threadpool(service.start)
        try:
            yield
        finally:
            await run_in_threadpool(service.stop)

    app = FastAPI(
        title="Orderwire",
        version=__version__,
        description="Order updates on WhatsApp, from payment to doorstep.",
        lifespan=lifespan,
    )
    app.state.runtime = rt
    app.add_middleware(BodyLimit)
    app.add_middleware(PublicRateLimit, per_minute=rt.settings.public_rate_per_minute)
    app.include_router(api.router)
    app.include_router(outbound_api.router)  # outbound webhooks: the delivery log
    app.include_router(webhooks.router)
    app.include_router(tracking.router)
    app.include_router(return_labels.router)  # returns helper: /returns/<token>/label.pdf
    if rt.settings.sandbox:
        app.include_router(sandbox.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    console.install(app)  # staff console (/console) and /metrics

    @app.exception_handler(sa.exc.OperationalError)
    async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The vendor must retry later: never acknowledge what we could not store.
        log.error("database unavailable: %s", type(exc).__name__)
        return JSONResponse({"detail": "storage unavailable, retry later"}, status_code=503)

    @app.get("/healthz", tags=["service"])
    def healthz() -> JSONResponse:
        """200 when the service and its database answer, 503 otherwise."""
        try:
            with rt.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok", "sandbox": rt.settings.sandbox})

    return app
