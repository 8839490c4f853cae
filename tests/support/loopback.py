"""Serve an ASGI app on a free loopback port in a background thread: every fake vendor server uses it."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn
from starlette.types import ASGIApp


def serve(app: ASGIApp) -> tuple[uvicorn.Server, int]:
    """Start `app` on 127.0.0.1 (a free port) and wait until it accepts requests; stop with `stop`."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    deadline = time.time() + 10
    while not server.started and time.time() < deadline:
        time.sleep(0.02)
    return server, port


def stop(server: uvicorn.Server | None) -> None:
    """Ask a server started by `serve` to finish."""
    if server is not None:
        server.should_exit = True
