"""Build and start the service's parts: database, durable engine, pump."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime

from dbos import DBOS

from orderwire.app import courier_actions, outbound, sending, stock
from orderwire.app import returns as _returns  # noqa: F401  (returns: registers its vendor calls)
from orderwire.app.catalogue import load_catalogue
from orderwire.app.pump import Pump
from orderwire.app.runtime import Runtime, install, utc_now
from orderwire.app.tracking_poll import Poller
from orderwire.domain.policy import EddRules, ShopPolicy, parse_replenish_days
from orderwire.integrations.whatsapp.client import CloudApiClient
from orderwire.settings import Settings
from orderwire.store import queries
from orderwire.store.db import make_engine, migrate, use_wal

log = logging.getLogger(__name__)

DEFAULT_SHOP = "default"
SANDBOX_GRAPH_PATH = "/sandbox/graph/v23.0"


def _secret(value: object | None) -> str:
    """A configured secret, or a fresh random one for this process (sandbox and local runs)."""
    getter = getattr(value, "get_secret_value", None)
    configured = str(getter()) if getter else ""
    return configured or secrets.token_urlsafe(24)  # an empty variable is no secret: never sign with ""


def build_runtime(settings: Settings, clock: Callable[[], datetime] = utc_now) -> Runtime:
    """Migrate the schema and assemble the runtime (nothing runs yet)."""
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    whatsapp_token = _secret(settings.whatsapp_token if not settings.sandbox else settings.sandbox_token)
    api_url = settings.whatsapp_api_url
    if settings.sandbox:
        api_url = settings.public_url.rstrip("/") + SANDBOX_GRAPH_PATH
    rt = Runtime(
        settings=settings,
        engine=engine,
        shop_id=DEFAULT_SHOP,
        policy=ShopPolicy(
            timezone=settings.timezone,
            quiet_start=settings.quiet_hours_start,
            quiet_end=settings.quiet_hours_end,
            follow_up_days=settings.follow_up_days,
            processing_update_threshold_minor=settings.processing_update_threshold_minor,
            default_delivery_days=settings.default_delivery_days,
            ndr_reminder_minutes=settings.ndr_reminder_minutes,
            ndr_escalate_minutes=settings.ndr_escalate_minutes,
            ndr_escalate_again_minutes=settings.ndr_escalate_again_minutes,
            cod_confirmation=settings.cod_confirmation,
            cod_reminder_minutes=settings.cod_reminder_minutes,
            cod_escalate_minutes=settings.cod_escalate_minutes,
            cod_hold_dispatch=settings.cod_hold_dispatch,
            backorder_extra_days=settings.backorder_extra_days,
            return_window_days=settings.return_window_days,  # returns
            refund_days=settings.refund_days,
            return_photos_max=settings.return_photos_max,
            replenish_days=parse_replenish_days(settings.replenish_days),  # replenishment offers
            reorder_url=settings.reorder_url,
            edd=EddRules(
                origin_pincode=settings.origin_pincode,
                processing_days=settings.processing_days,
                same_city_days=settings.transit_days_same_city,
                same_state_days=settings.transit_days_same_state,
                metro_days=settings.transit_days_metro,
                rest_of_india_days=settings.transit_days_rest_of_india,
                north_east_days=settings.transit_days_north_east,
                holidays=settings.holiday_dates,
            ),
        ),
        catalogue=load_catalogue(),
        whatsapp=CloudApiClient(
            api_url, whatsapp_token, settings.whatsapp_phone_number_id, settings.whatsapp_timeout_seconds
        ),
        api_key=_secret(settings.api_key),
        app_secret=_secret(settings.whatsapp_app_secret),
        verify_token=_secret(settings.whatsapp_verify_token),
        whatsapp_token=whatsapp_token,
        clock=clock,
    )
    with engine.begin() as conn:
        queries.ensure_shop(conn, DEFAULT_SHOP, settings.shop_name, settings.timezone, clock())
    return rt


def worker_environment(rt: Runtime) -> dict[str, str]:
    """Settings a worker process needs to share this process's generated secrets and public URL."""
    return {
        "ORDERWIRE_PUBLIC_URL": rt.settings.public_url,
        "ORDERWIRE_API_KEY": rt.api_key,
        "ORDERWIRE_WHATSAPP_APP_SECRET": rt.app_secret,
        "ORDERWIRE_WHATSAPP_VERIFY_TOKEN": rt.verify_token,
        **({"ORDERWIRE_SANDBOX_TOKEN": rt.whatsapp_token} if rt.settings.sandbox else {}),
    }


class Service:
    """The durable engine and the pump around one runtime."""

    def __init__(self, rt: Runtime):
        self.rt = rt
        self.pump = Pump(rt)
        self.poller = Poller(rt) if rt.settings.shiprocket_polling else None

    def start(self) -> None:
        """Launch DBOS (recovering this executor's pending work) and the pump."""
        install(self.rt)
        settings = self.rt.settings
        use_wal(settings.dbos_database_url)  # DBOS's own SQLite file would otherwise fsync every commit
        DBOS(
            config={
                "name": "orderwire",
                "system_database_url": settings.dbos_database_url,
                "application_version": settings.app_version,
                "executor_id": settings.executor_id,
                "log_level": "WARNING",
                "notification_listener_polling_interval_sec": 0.1,
            }
        )
        DBOS.launch()
        sending.register_queue(self.rt)
        self.pump.start()
        if self.poller is not None:
            self.poller.start()

    def stop(self) -> None:
        """Stop the pump and the durable engine."""
        if self.poller is not None:
            self.poller.stop()
        self.pump.stop()
        courier_actions.close(self.rt)
        outbound.close(self.rt)  # outbound webhooks and CRM
        stock.forget(self.rt)  # commerce
        DBOS.destroy(workflow_completion_timeout_sec=2)  # let in-flight sends checkpoint
        self.rt.whatsapp.close()
        self.rt.engine.dispose()
        install(None)
