"""The `orderwire` command: serve, migrate, demo, templates (lint, push, sync), classify, customer erase,
purge."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import httpx
import typer
import uvicorn

from orderwire.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from orderwire.app.runtime import Runtime
    from orderwire.integrations.whatsapp.templates import TemplateApiClient

# A client that reuses a connection the server has just closed as idle gets no answer at all; HTTP clients
# do not resend a POST by themselves, so the delivery waits for the vendor's next retry. So the server keeps
# idle connections longer than the clients and proxies in front of it (uvicorn's default is 5 s, as long as
# httpx's pool keeps them; nginx's upstream keep-alive and AWS load balancers close idle ones after 60 s):
# the client closes first.
KEEP_ALIVE_SECONDS = 65

log = logging.getLogger(__name__)
app = typer.Typer(help="Orderwire: order updates on WhatsApp.", no_args_is_help=True)
templates = typer.Typer(help="WhatsApp templates: lint the catalogue, push it to Meta, sync statuses.")
app.add_typer(templates, name="templates", no_args_is_help=True)
customer = typer.Typer(help="A customer's personal data.")
app.add_typer(customer, name="customer", no_args_is_help=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[bool, typer.Option(help="Drive demo orders once the server is up.")] = False,
    demo_pause: Annotated[float, typer.Option(help="Seconds between demo steps.")] = 2.5,
    inline: Annotated[
        bool, typer.Option(help="Run the worker (pump, sending) in this process instead of its own.")
    ] = False,
) -> None:
    """Start the service (migrates the schema first): the web process and its worker process."""
    overrides = {} if "ORDERWIRE_PUBLIC_URL" in os.environ else {"public_url": f"http://{host}:{port}"}
    settings = Settings(**overrides)  # type: ignore[arg-type]
    _console_process_setup(settings, web=not inline)  # before anything imports prometheus_client
    from orderwire.bootstrap import build_runtime, worker_environment
    from orderwire.web.app import create_app

    rt = build_runtime(settings)
    base = settings.public_url.rstrip("/")
    lines = [f"Orderwire on {base}  (API docs: {base}/docs)"]
    if settings.sandbox:
        lines.append(f"WhatsApp sandbox: {base}/sandbox  (no Meta account configured)")
    if settings.api_key is None:
        lines.append(f"API key for this run: {rt.api_key}  (set ORDERWIRE_API_KEY to fix one)")
    typer.echo("\n".join(lines))
    demo_thread = threading.Thread(target=_demo_when_ready, args=(base, rt.api_key, demo_pause), daemon=True)
    if inline:
        if demo:
            demo_thread.start()
        _serve(create_app(runtime=rt), host, port)
        return
    # Separate processes use both cores: requests are never slowed by the work they queue
    # (docs/benchmarks.md). On PostgreSQL several workers share the jobs and sends, each under its own
    # executor id (the first keeps the configured one); SQLite has one writer, so one worker.
    count = rt.settings.workers if rt.engine.dialect.name == "postgresql" else 1
    with ExitStack() as workers:
        for n in range(count):
            executor = rt.settings.executor_id + (f".{n}" if n else "")
            workers.enter_context(
                _worker_process(
                    worker_environment(rt) | {"ORDERWIRE_EXECUTOR_ID": executor}, rt.settings.worker_niceness
                )
            )
        if demo:
            demo_thread.start()
        _serve(create_app(runtime=rt, with_worker=False), host, port)


def _serve(app: FastAPI, host: str, port: int) -> None:
    """Serve the web app with uvicorn until stopped."""
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_keep_alive=KEEP_ALIVE_SECONDS)


@contextmanager
def _worker_process(env: dict[str, str], niceness: int) -> Iterator[None]:
    """Run one `orderwire worker` beside this process (at a lower CPU priority: `niceness`), restart it if
    it dies, stop it afterwards."""

    prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl  # looked up before forking, not in the child

    def die_with_parent() -> None:
        # PR_SET_PDEATHSIG with SIGKILL: a killed parent takes its worker along, whatever it is doing.
        # Nothing is lost: jobs roll back, and a new worker takes back the sends its predecessor had claimed.
        prctl(1, signal.SIGKILL)
        os.nice(niceness)

    def spawn() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "orderwire.cli", "worker"],
            env={**os.environ, **env},
            preexec_fn=die_with_parent,
        )

    stopping = threading.Event()
    current = [spawn()]

    def supervise() -> None:
        delay = 1.0
        while not stopping.is_set():
            code = current[0].wait()
            if stopping.is_set():
                return
            log.error("worker process exited with %s; restarting in %.0f s", code, delay)
            if stopping.wait(delay):
                return
            current[0] = spawn()
            delay = min(delay * 2, 30.0)

    threading.Thread(target=supervise, name="worker-supervisor", daemon=True).start()
    try:
        yield
    finally:
        stopping.set()
        child = current[0]
        child.terminate()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()


@app.command()
def worker() -> None:
    """Run the pump and durable sending until stopped (started by `serve`; run more on PostgreSQL)."""
    from orderwire.bootstrap import Service, build_runtime

    settings = Settings()
    _console_process_setup(settings, web=False)
    service = Service(build_runtime(settings))
    stopped = threading.Event()
    parent = os.getppid()
    service.start()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    try:
        while not stopped.wait(1.0):
            if os.getppid() != parent:  # orphaned: the web process is gone
                break
    finally:
        # A stop that hangs must not leave a worker behind: give it 30 s, then leave regardless.
        watchdog = threading.Timer(30.0, os._exit, args=(1,))
        watchdog.daemon = True
        watchdog.start()
        service.stop()


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


@customer.command("erase")
def customer_erase(
    phone: Annotated[str, typer.Argument(help="The customer's phone number (+91… or 10 digits).")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase a customer's personal data, keeping anonymised figures; they get no further messages."""
    from orderwire.app.privacy import erase_customer
    from orderwire.bootstrap import build_runtime
    from orderwire.web.schemas import e164

    try:
        number = e164(phone)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if not yes:
        typer.confirm(f"Erase everything personal about {number}? This cannot be undone", abort=True)
    rt = build_runtime(Settings())
    try:
        done = erase_customer(rt, number)
    finally:
        rt.whatsapp.close()
        rt.engine.dispose()
    if done is None:
        typer.echo("no customer with that number")
        raise typer.Exit(1)
    typer.echo("erased: " + ", ".join(f"{table} {count}" for table, count in sorted(done.counts.items())))


@app.command()
def purge(
    days: Annotated[
        int | None, typer.Option(help="Older than this many days (default: ORDERWIRE_RETENTION_DAYS).")
    ] = None,
) -> None:
    """Clear conversations and raw webhook bodies older than the retention period."""
    from orderwire.app.privacy import purge_older_than
    from orderwire.bootstrap import build_runtime

    settings = Settings()
    keep = days if days is not None else settings.retention_days
    if keep <= 0:
        raise typer.BadParameter("give --days N (N > 0) or set ORDERWIRE_RETENTION_DAYS")
    rt = build_runtime(settings)
    try:
        done = purge_older_than(rt, keep)
    finally:
        rt.whatsapp.close()
        rt.engine.dispose()
    typer.echo("purged: " + ", ".join(f"{table} {count}" for table, count in sorted(done.counts.items())))


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


@templates.command("lint")
def templates_lint(
    catalogue: Annotated[
        Path | None, typer.Option(help="Catalogue directory (default: the packaged one).")
    ] = None,
) -> None:
    """Check every template against WhatsApp's rules; exit 1 when there are errors."""
    from orderwire.app.catalogue import CATALOGUE_DIR, load_catalogue
    from orderwire.domain.template_lint import ERROR, lint_catalogue

    definitions = load_catalogue(catalogue or CATALOGUE_DIR)
    findings = lint_catalogue(definitions)
    for finding in findings:
        typer.echo(str(finding))
    errors = sum(f.severity == ERROR for f in findings)
    versions = sum(len(d.languages) for d in definitions.values())
    typer.echo(f"{len(definitions)} templates, {versions} language versions: {errors} error(s)")
    if errors:
        raise typer.Exit(1)


@contextmanager
def _template_account() -> Iterator[tuple[Runtime, TemplateApiClient]]:
    from orderwire.bootstrap import build_runtime
    from orderwire.integrations.whatsapp.templates import TemplateApiClient

    settings = Settings()
    if settings.whatsapp_token is None or not settings.whatsapp_waba_id:
        typer.echo("set ORDERWIRE_WHATSAPP_TOKEN and ORDERWIRE_WHATSAPP_WABA_ID first", err=True)
        raise typer.Exit(2)
    rt = build_runtime(settings)
    token = settings.whatsapp_token.get_secret_value()
    client = TemplateApiClient(settings.whatsapp_api_url, token, settings.whatsapp_waba_id)
    try:
        yield rt, client
    finally:
        client.close()
        rt.whatsapp.close()
        rt.engine.dispose()


def _print_statuses(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        for language, known in row["languages"].items():
            category = known["category"] or "-"
            line = f"{row['name']:32} {language:5} {known['status']:17} {category:15} {known['reason']}"
            typer.echo(line.rstrip())


@templates.command("push")
def templates_push() -> None:
    """Submit new and changed templates to the WhatsApp Business Account (lint-clean ones only)."""
    from orderwire.app import templates as use_cases
    from orderwire.integrations.whatsapp.templates import GraphError

    with _template_account() as (rt, client):
        try:
            report = use_cases.push(rt, client)
        except GraphError as exc:
            typer.echo(f"the Graph API refused: {exc}", err=True)
            raise typer.Exit(1) from exc
    for label, keys in (
        ("created", report.created),
        ("edited", report.edited),
        ("unchanged", report.unchanged),
        ("skipped (lint errors)", report.skipped),
        ("failed", report.failed),
    ):
        for key in keys:
            typer.echo(f"{label:22} {key}")
    if not report.ok:
        raise typer.Exit(1)


@templates.command("sync")
def templates_sync() -> None:
    """Pull each template's status and category from the WhatsApp Business Account."""
    from orderwire.app import templates as use_cases
    from orderwire.integrations.whatsapp.templates import GraphError

    with _template_account() as (rt, client):
        try:
            rows = use_cases.sync(rt, client)
        except GraphError as exc:
            typer.echo(f"the Graph API refused: {exc}", err=True)
            raise typer.Exit(1) from exc
    _print_statuses(rows)


# --- intent classifier (bot/intents.py) ------------------------------------------------------------------
@app.command()
def classify(
    text: Annotated[
        str | None, typer.Argument(help="A customer message; with --evaluate, a labelled CSV (optional).")
    ] = None,
    evaluate: Annotated[
        bool, typer.Option("--evaluate", help="Score the labelled set instead and rewrite the doc's results.")
    ] = False,
    doc: Annotated[
        Path, typer.Option(help="Markdown file whose results section --evaluate rewrites.")
    ] = Path("docs/classifier.md"),
) -> None:
    """Print a message's intent as JSON, or with --evaluate measure the classifier (exit 1 below 90%)."""
    import json
    from datetime import UTC, datetime

    from orderwire.bot import intent_eval
    from orderwire.bot.intents import classify as classify_text

    if not evaluate:
        if text is None:
            raise typer.BadParameter("give the message to classify, or --evaluate")
        result = classify_text(text)
        typer.echo(json.dumps({"intent": result.intent, "confidence": result.confidence}, ensure_ascii=False))
        return
    sets = [
        ("Evaluation set", intent_eval.EVAL_SET),
        ("Blind set", intent_eval.BLIND_SET),
        ("Development set", intent_eval.DEV_SET),
    ]
    if text is not None:
        sets = [(Path(text).name, Path(text))]
    reports = [intent_eval.evaluate(name, intent_eval.load_examples(path)) for name, path in sets]
    for report in reports:
        typer.echo("\n".join(intent_eval.render_table(report)) + "\n")
    command = "orderwire classify --evaluate" + (f" {text}" if text is not None else "")
    section = intent_eval.render_section(reports, datetime.now(UTC).date().isoformat(), command)
    existing = doc.read_text(encoding="utf-8") if doc.exists() else ""
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(intent_eval.update_doc(existing, section), encoding="utf-8")
    typer.echo(f"results written to {doc}")
    if reports[0].accuracy < intent_eval.GOAL:
        raise typer.Exit(1)


# --- staff console: process setup (logs, metrics across processes) and `orderwire user` ---
users = typer.Typer(help="Staff users of the console (/console).")
app.add_typer(users, name="user", no_args_is_help=True)


def _console_process_setup(settings: Settings, web: bool) -> None:
    """Masked text or JSON logs; for `serve` with a worker, one metrics directory shared by both processes."""
    import shutil
    import tempfile

    from orderwire.logs import configure

    configure(settings.log_format)
    if web and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Set before prometheus_client is imported; the worker inherits it. Removed when serve exits.
        directory = tempfile.mkdtemp(prefix="orderwire-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        import atexit

        atexit.register(shutil.rmtree, directory, ignore_errors=True)


@users.command("create")
def user_create(
    email: Annotated[str, typer.Argument(help="The person's email: their login.")],
    role: Annotated[str, typer.Option(help="admin (everything, user management) or agent.")] = "agent",
    name: Annotated[str, typer.Option(help="Name shown in the console.")] = "",
) -> None:
    """Create a staff user; the password is read from ORDERWIRE_NEW_USER_PASSWORD or asked for."""
    from orderwire.app import staff
    from orderwire.bootstrap import build_runtime

    password = os.environ.get("ORDERWIRE_NEW_USER_PASSWORD") or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    rt = build_runtime(Settings())
    try:
        staff.create_user(rt, email, password, role, name)
    except staff.UserError as exc:
        typer.echo(f"not created: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        rt.whatsapp.close()
        rt.engine.dispose()
    typer.echo(
        f"created {role} {staff.normalise_email(email)}; "
        f"log in at {Settings().public_url.rstrip('/')}/console"
    )


if __name__ == "__main__":
    app()
