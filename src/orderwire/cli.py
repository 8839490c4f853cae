"""The `orderwire` command: serve, migrate, demo."""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Annotated

import httpx
import typer
import uvicorn

from orderwire.settings import Settings

app = typer.Typer(help="Orderwire: order updates on WhatsApp.", no_args_is_help=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[bool, typer.Option(help="Drive demo orders once the server is up.")] = False,
    demo_pause: Annotated[float, typer.Option(help="Seconds between demo steps.")] = 2.5,
) -> None:
    """Start the service (migrates the schema first)."""
    from orderwire.bootstrap import build_runtime
    from orderwire.web.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # request lines would repeat tracking tokens
    overrides = {} if "ORDERWIRE_PUBLIC_URL" in os.environ else {"public_url": f"http://{host}:{port}"}
    settings = Settings(**overrides)  # type: ignore[arg-type]
    rt = build_runtime(settings)
    base = settings.public_url.rstrip("/")
    lines = [f"Orderwire on {base}  (API docs: {base}/docs)"]
    if settings.sandbox:
        lines.append(f"WhatsApp sandbox: {base}/sandbox  (no Meta account configured)")
    if settings.api_key is None:
        lines.append(f"API key for this run: {rt.api_key}  (set ORDERWIRE_API_KEY to fix one)")
    typer.echo("\n".join(lines))
    if demo:
        threading.Thread(target=_demo_when_ready, args=(base, rt.api_key, demo_pause), daemon=True).start()
    uvicorn.run(create_app(runtime=rt), host=host, port=port, log_level="warning")


def _demo_when_ready(base: str, api_key: str, pause: float) -> None:
    from orderwire.demo import run_demo

    for _ in range(100):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    run_demo(base, api_key, pause=pause, say=typer.echo)


@app.command()
def migrate() -> None:
    """Upgrade the database schema to the newest version."""
    from orderwire.store.db import migrate as upgrade

    upgrade(Settings().database_url)
    typer.echo("schema up to date")


@app.command()
def demo(
    url: Annotated[str, typer.Option(help="Base URL of a running Orderwire.")] = "",
    api_key: Annotated[str, typer.Option(envvar="ORDERWIRE_API_KEY", help="Its API key.")] = "",
) -> None:
    """Drive demo orders through every stage against a running server (see /sandbox)."""
    from orderwire.demo import run_demo

    if not api_key:
        raise typer.BadParameter("give --api-key or set ORDERWIRE_API_KEY")
    run_demo(url or Settings().public_url, api_key, say=typer.echo)


if __name__ == "__main__":
    app()
