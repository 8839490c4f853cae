"""Build and start the service's parts: database, pump, sender."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime

from orderwire.app import courier_actions, outbound, sending, stock
from orderwire.app import returns as _returns  # noqa: F401  (returns: registers its vendor calls)
from orderwire.app.catalogue import load_catalogue
from orderwire.app.pump import Pump
from orderwire.app.runtime import Runtime, utc_now
from orderwire.app.tracking_poll import Poller
from orderwire.domain.policy import EddRules, ShopPolicy, parse_replenish_days
from orderwire.integrations.whatsapp.client import CloudApiClient
from orderwire.settings import Settings
from orderwire.store import queries
from orderwire.store.db import autovacuum_off, make_engine, migrate

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
    """The pump (jobs, timers, sending) and the courier poller around one runtime."""

    def __init__(self, rt: Runtime):
        self.rt = rt
        self.pump = Pump(rt)
        self.poller = Poller(rt) if rt.settings.shiprocket_polling else None

    def start(self) -> None:
        """Take back this executor's unfinished sends, then start the pump."""
        if autovacuum_off(self.rt.engine):
            # Every claim walks the dead rows of `messages` and `jobs` until they are vacuumed: a soak
            # with autovacuum off slowed from 12.7 to 7.7 orders/s by 27,000 orders (docs/operations.md).
            log.warning(
                "PostgreSQL's autovacuum is off: turn it on, or the send queue slows down as it grows"
            )
        sending.sender_for(self.rt)
        self.pump.start()
        if self.poller is not None:
            self.poller.start()

    def stop(self) -> None:
        """Stop the pump, let the sends in flight finish, and close the clients."""
        if self.poller is not None:
            self.poller.stop()
        self.pump.stop()
        sending.close(self.rt)
        courier_actions.close(self.rt)
        outbound.close(self.rt)  # outbound webhooks and CRM
        stock.forget(self.rt)  # commerce
        self.rt.whatsapp.close()
        self.rt.engine.dispose()
