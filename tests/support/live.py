"""Run the real app (uvicorn, pump, sender) in this process on a free loopback port."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

from orderwire.app.runtime import Runtime
from orderwire.bootstrap import build_runtime
from orderwire.settings import Settings
from orderwire.web.app import create_app


class LiveService:
    """`with LiveService(env) as live:` gives `live.url` and `live.rt`; stops the service on exit."""

    def __init__(self, env: dict[str, str], **overrides: Any):
        self._env = env
        self._overrides = overrides
        self.url = ""
        self.rt: Runtime | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LiveService:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        values = {k.removeprefix("ORDERWIRE_").lower(): v for k, v in self._env.items()}
        values.setdefault("public_url", self.url)
        values.update(self._overrides)
        settings = Settings(**values)
        self.rt = build_runtime(settings)
        app = create_app(runtime=self.rt)
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.time() + 30
        while not self._server.started:
            if time.time() > deadline or not self._thread.is_alive():
                raise RuntimeError("service did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=30)
