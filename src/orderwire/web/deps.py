"""Request dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from orderwire.app.runtime import Runtime
from orderwire.integrations.signatures import equal

_bearer = HTTPBearer(auto_error=False)


# Both dependencies are `async def` although they await nothing (neither does I/O): FastAPI runs a plain
# `def` dependency in its thread pool, a thread hop per dependency per request (docs/benchmarks.md,
# "Two small cuts").
async def runtime(request: Request) -> Runtime:
    """The process's runtime."""
    rt: Runtime = request.app.state.runtime
    return rt


RuntimeDep = Annotated[Runtime, Depends(runtime)]
# A row id in a path: PostgreSQL's INTEGER holds up to 2**31 - 1; anything else is a 422, not a 500.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


async def require_api_key(
    rt: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Bearer ORDERWIRE_API_KEY, compared in constant time."""
    if credentials is None or not equal(credentials.credentials, rt.api_key):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or wrong API key",
            headers={"WWW-Authenticate": "Bearer"},
        )
