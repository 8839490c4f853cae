"""Configuration from the environment (ORDERWIRE_*); secrets are never read from files in the repo."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from orderwire.domain.policy import parse_replenish_days

GRAPH_API_URL = "https://graph.facebook.com/v23.0"
SHIPROCKET_FORBIDDEN = ("shiprocket", "kartrocket", "sr", "kr")


class Settings(BaseSettings):
    """Every setting Orderwire reads; see the configuration table in README.md."""

    model_config = SettingsConfigDict(env_prefix="ORDERWIRE_", extra="ignore")

    database_url: str = "sqlite:///./orderwire.db"
    public_url: str = "http://127.0.0.1:8000"
    api_key: SecretStr | None = None

    whatsapp_api_url: str = GRAPH_API_URL
    whatsapp_token: SecretStr | None = None
    whatsapp_phone_number_id: str = "sandbox-number"
    whatsapp_waba_id: str | None = None  # the WhatsApp Business Account holding the templates
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    # Set by `orderwire serve` for its worker process, so both speak to the same sandbox; not for users.
    sandbox_token: SecretStr | None = None
    whatsapp_rate_per_second: int = Field(default=80, ge=1, le=1000)
    whatsapp_timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    shop_name: str = "Demo Shop"
    timezone: str = "Asia/Kolkata"
    quiet_hours_start: int = Field(default=21, ge=0, le=23)
    quiet_hours_end: int = Field(default=9, ge=0, le=23)
    follow_up_days: int = Field(default=4, ge=3, le=7)
    processing_update_threshold_minor: int = Field(default=500_000, ge=0)
    default_delivery_days: int = Field(default=5, ge=1, le=30)

    # Expected delivery dates when the shop gives none (domain/edd.py): working days by zone.
    origin_pincode: str = Field(default="", pattern=r"^([1-9][0-9]{5})?$")
    processing_days: int = Field(default=1, ge=0, le=15)
    transit_days_same_city: int = Field(default=1, ge=1, le=30)
    transit_days_same_state: int = Field(default=2, ge=1, le=30)
    transit_days_metro: int = Field(default=3, ge=1, le=30)
    transit_days_rest_of_india: int = Field(default=5, ge=1, le=30)
    transit_days_north_east: int = Field(default=7, ge=1, le=30)
    holidays: str = ""  # comma-separated YYYY-MM-DD: no deliveries on these days

    # Courier webhooks: a vendor whose secret is unset answers 401.
    shiprocket_webhook_token: SecretStr | None = None
    shiprocket_webhook_alias: str = "courier-a"
    aftership_webhook_secret: SecretStr | None = None
    delhivery_webhook_token: SecretStr | None = None
    easypost_webhook_secret: SecretStr | None = None

    # Payment gateways (integrations/razorpay, stripe, cashfree). Webhooks: a gateway whose secret is unset
    # answers 401; Cashfree signs with the API client secret. Refund APIs: used when their keys are set;
    # `payment_gateway` names the one to refund through (else the first of razorpay, stripe, cashfree).
    razorpay_webhook_secret: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    cashfree_client_secret: SecretStr | None = None
    payment_gateway: Literal["", "razorpay", "stripe", "cashfree"] = ""
    razorpay_api_url: str = "https://api.razorpay.com"
    razorpay_key_id: str = ""
    razorpay_key_secret: SecretStr | None = None
    stripe_api_url: str = "https://api.stripe.com"
    stripe_secret_key: SecretStr | None = None
    cashfree_api_url: str = "https://api.cashfree.com"
    cashfree_client_id: str = ""
    cashfree_api_version: str = "2025-01-01"
    # Shops (integrations/shopify, integrations/woocommerce): webhook secrets (unset: 401) and order APIs.
    shopify_webhook_secret: SecretStr | None = None  # the app's client secret (X-Shopify-Hmac-Sha256)
    woocommerce_webhook_secret: SecretStr | None = None  # the webhook's secret (X-WC-Webhook-Signature)
    shopify_shop_url: str = ""  # https://<shop>.myshopify.com
    shopify_admin_token: SecretStr | None = None  # Admin API access token (X-Shopify-Access-Token)
    shopify_api_version: str = Field(default="2025-10", pattern=r"^\d{4}-\d{2}$")
    woocommerce_url: str = ""  # the WordPress site, https://shop.example
    woocommerce_consumer_key: str = ""
    woocommerce_consumer_secret: SecretStr | None = None

    # Polling Shiprocket's tracking API for parcels whose courier went quiet (off unless configured).
    shiprocket_api_url: str = ""
    shiprocket_api_email: str = ""
    shiprocket_api_password: SecretStr | None = None
    shiprocket_api_token: SecretStr | None = None
    tracking_poll_after_seconds: int = Field(default=6 * 3600, ge=1)
    tracking_poll_max_attempts: int = Field(default=8, ge=1, le=30)
    tracking_poll_every_seconds: float = Field(default=30.0, gt=0)

    executor_id: str = "local"  # names this process's claims on messages it is sending
    # Failed deliveries: a reminder, then staff, when the customer does not answer (sooner after a second).
    ndr_reminder_minutes: float = Field(default=120, gt=0)
    ndr_escalate_minutes: float = Field(default=360, gt=0)
    ndr_escalate_again_minutes: float = Field(default=120, gt=0)
    # Requests per minute one client address may make to the public tracking pages (then 429).
    public_rate_per_minute: int = Field(default=60, ge=1)
    # Personal data: conversations and raw webhook bodies older than this are cleared (0: keep them).
    retention_days: int = Field(default=0, ge=0)
    # Conversations (orderwire.bot): the shop's review page, offered after a rating of 4 or 5 (none when
    # empty); the hours within which staff answer a customer the bot handed over (said to the customer).
    review_url: str = Field(default="", pattern=r"^(https?://\S+)?$")
    human_reply_hours: int = Field(default=4, ge=1, le=72)
    # commerce: COD confirmation on WhatsApp (a reminder after cod_reminder_minutes, staff after another
    # cod_escalate_minutes), holding dispatch in the shop until confirmed; payment events waiting for
    # order details fetch them from the shop after order_details_wait_seconds; a stock feed (CSV
    # `sku,available,restock_date` at an http(s) URL or a local path) for back-order EDDs.
    cod_confirmation: bool = True
    cod_reminder_minutes: float = Field(default=240, gt=0)
    cod_escalate_minutes: float = Field(default=480, gt=0)
    cod_hold_dispatch: bool = False
    order_details_wait_seconds: float = Field(default=120, ge=0)
    stock_feed_url: str = ""
    stock_feed_ttl_seconds: float = Field(default=300, ge=0)
    backorder_extra_days: int = Field(default=7, ge=0, le=90)
    # Replenishment offers: `SKU-1=30,SKU-2=45` — days after delivery to offer each SKU again (MARKETING,
    # opted-in customers, in stock only); the shop page linked in the offer ("{sku}" becomes the SKU).
    replenish_days: str = ""
    reorder_url: str = Field(default="", pattern=r"^(https?://\S+)?$", max_length=500)
    # --- Returns (returns helper) ---
    return_window_days: int = Field(default=7, ge=0, le=365)  # days after delivery a return may start
    refund_days: int = Field(default=7, ge=1, le=60)  # refund promised within this many days of pickup
    return_photos_max: int = Field(default=3, ge=1, le=10)  # photos of a damaged or wrong item
    # The shop's return address printed on return labels, lines separated by "|"; without it (and
    # without Shiprocket's API) staff arrange each return by hand.
    return_address: str = Field(default="", max_length=500)
    # The same address in parts, for Shiprocket's return orders (its `shipping_*` fields): with these and
    # Shiprocket's API configured, returns are picked up by Shiprocket instead of a printed label.
    return_city: str = Field(default="", max_length=100)
    return_state: str = Field(default="", max_length=100)
    return_pincode: str = Field(default="", pattern=r"^([1-9][0-9]{5})?$")
    return_phone: str = Field(default="", max_length=20)
    return_parcel_weight_kg: float = Field(default=0.5, gt=0, le=100)
    return_parcel_cm: str = Field(default="20x15x10", pattern=r"^\d+(\.\d+)?x\d+(\.\d+)?x\d+(\.\d+)?$")
    media_dir: str = "./media"  # where photos customers send are kept (content-addressed by SHA-256)
    media_max_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)  # larger media are not downloaded
    # --- end returns ---
    send_max_attempts: int = Field(default=5, ge=1, le=20)
    send_retry_base_seconds: float = Field(default=1.0, gt=0)
    # Worker processes `orderwire serve` starts on PostgreSQL: more than one pays on more than two cores
    # (the GIL caps a process near one core; on 2 cores a second one starved the web process, measured in
    # docs/benchmarks.md). SQLite has one writer: always one worker.
    workers: int = Field(default=1, ge=1, le=16)
    # The worker processes' niceness (Unix). Above 0, acknowledging webhooks goes first when the CPU is
    # short, but the worker then falls behind sooner: at 10, 200 orders/s on 2 cores missed the 1 s p99
    # that 0 held, and overload drained slower; at 0 acks took 0.9-1.2 s at p99 under 2x overload
    # (docs/benchmarks.md, "The worker's niceness, measured again").
    worker_niceness: int = Field(default=0, ge=0, le=19)
    # Threads applying jobs in each worker on PostgreSQL: a job is mostly waiting on database round trips,
    # so a second thread overlaps them (SQLite has one writer: one thread there, whatever this says).
    pump_threads: int = Field(default=3, ge=1, le=8)
    # A send claimed this long ago by a process that has not finished it is taken over by another one.
    send_lease_seconds: float = Field(default=60.0, ge=1)

    # --- Outbound webhooks and CRM (app/outbound.py, docs/outbound-webhooks.md) ---
    # Standard Webhooks: comma-separated endpoint URLs, one signing secret `whsec_<base64>` for all of
    # them, and an optional comma-separated list of event types to send (empty: every event).
    outbound_webhook_urls: str = ""
    outbound_webhook_secret: SecretStr | None = None
    outbound_webhook_events: str = ""
    outbound_max_attempts: int = Field(default=10, ge=1, le=30)
    outbound_retry_base_seconds: float = Field(default=5.0, gt=0)
    outbound_timeout_seconds: float = Field(default=15.0, gt=0, le=60)
    # HubSpot: a private app's access token; the same events become notes on the customer's contact.
    hubspot_api_url: str = "https://api.hubapi.com"
    hubspot_token: SecretStr | None = None
    hubspot_events: str = ""

    @field_validator("outbound_webhook_urls")
    @classmethod
    def _http_urls(cls, value: str) -> str:
        for url in filter(None, (u.strip() for u in value.split(","))):
            if not re.match(r"^https?://[^\s/]+", url) or len(url) > 500:
                raise ValueError(f"not an http(s) URL of at most 500 characters: {url[:60]!r}")
        return value

    @field_validator("outbound_webhook_secret")
    @classmethod
    def _whsec(cls, value: SecretStr | None) -> SecretStr | None:
        # The Standard Webhooks form: "whsec_" then base64 of at least 24 random bytes.
        if value is not None and value.get_secret_value():
            raw = value.get_secret_value().removeprefix("whsec_")
            try:
                key = base64.b64decode(raw, validate=True)
            except binascii.Error as exc:
                raise ValueError("expected whsec_<base64>") from exc
            if len(key) < 24:
                raise ValueError("the secret must decode to at least 24 bytes")
        return value

    # --- staff console (/console), /metrics and logs ---
    case_target_minutes: int = Field(default=60, ge=1)  # an open case older than this is shown as late
    # Projected Meta cost per delivered message by template category, in `message_price_currency`.
    # The defaults are examples of India rates; take yours from Meta's pricing page.
    message_prices: str = "utility=0.115,marketing=0.7846,authentication=0.115,service=0"
    message_price_currency: str = "INR"
    metrics_public: bool = False  # False: GET /metrics needs the API key as a bearer token
    log_format: str = Field(default="text", pattern=r"^(text|json)$")
    staff_session_hours: int = Field(default=12, ge=1, le=24 * 30)

    @field_validator("replenish_days")
    @classmethod
    def _replenish(cls, value: str) -> str:
        parse_replenish_days(value)
        return value

    @field_validator("holidays")
    @classmethod
    def _dates(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            date.fromisoformat(part)
        return value

    @field_validator("shiprocket_webhook_alias")
    @classmethod
    def _shiprocket_safe(cls, value: str) -> str:
        # Shiprocket refuses webhook URLs containing these words.
        if not re.fullmatch(r"[a-z0-9-]+", value) or any(w in value for w in SHIPROCKET_FORBIDDEN):
            raise ValueError(f"lowercase letters, digits and '-', without any of {SHIPROCKET_FORBIDDEN}")
        return value

    @field_validator("message_prices")
    @classmethod
    def _prices(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            category, _, price = part.partition("=")
            if not category.strip() or float(price) < 0:
                raise ValueError("category=price pairs, e.g. utility=0.115,marketing=0.7846")
        return value

    @property
    def message_price_table(self) -> dict[str, float]:
        """Price per message by lower-case template category."""
        pairs = (p.strip().partition("=") for p in self.message_prices.split(",") if p.strip())
        return {c.strip().lower(): float(v) for c, _, v in pairs}

    @property
    def holiday_dates(self) -> frozenset[date]:
        """The listed holidays."""
        return frozenset(date.fromisoformat(p.strip()) for p in self.holidays.split(",") if p.strip())

    @property
    def shiprocket_polling(self) -> bool:
        """True when Shiprocket's API is configured (a URL and a token or a login)."""
        login = bool(self.shiprocket_api_email and self.shiprocket_api_password)
        return bool(self.shiprocket_api_url) and (login or self.shiprocket_api_token is not None)

    @property
    def shiprocket_returns(self) -> bool:
        """True when Shiprocket's API and a complete return address are configured (returns)."""
        parts = (
            self.return_address,
            self.return_city,
            self.return_state,
            self.return_pincode,
            self.return_phone,
        )
        return self.shiprocket_polling and all(parts)

    @property
    def sandbox(self) -> bool:
        """True when no WhatsApp credentials are configured: messages go to the built-in sandbox."""
        return self.whatsapp_token is None
