"""Configuration from the environment (ORDERWIRE_*); secrets are never read from files in the repo."""

from __future__ import annotations

import re
from datetime import date
from functools import cached_property

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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

    # Polling Shiprocket's tracking API for parcels whose courier went quiet (off unless configured).
    shiprocket_api_url: str = ""
    shiprocket_api_email: str = ""
    shiprocket_api_password: SecretStr | None = None
    shiprocket_api_token: SecretStr | None = None
    tracking_poll_after_seconds: int = Field(default=6 * 3600, ge=1)
    tracking_poll_max_attempts: int = Field(default=8, ge=1, le=30)
    tracking_poll_every_seconds: float = Field(default=30.0, gt=0)

    executor_id: str = "local"
    app_version: str = "1"
    # Failed deliveries: a reminder, then staff, when the customer does not answer (sooner after a second).
    ndr_reminder_minutes: float = Field(default=120, gt=0)
    ndr_escalate_minutes: float = Field(default=360, gt=0)
    ndr_escalate_again_minutes: float = Field(default=120, gt=0)
    send_max_attempts: int = Field(default=5, ge=1, le=20)
    send_retry_base_seconds: float = Field(default=1.0, gt=0)

    # --- staff console (/console), /metrics and logs ---
    case_target_minutes: int = Field(default=60, ge=1)  # an open case older than this is shown as late
    # Projected Meta cost per delivered message by template category, in `message_price_currency`.
    # The defaults are examples of India rates; take yours from Meta's pricing page.
    message_prices: str = "utility=0.115,marketing=0.7846,authentication=0.115,service=0"
    message_price_currency: str = "INR"
    metrics_public: bool = False  # False: GET /metrics needs the API key as a bearer token
    log_format: str = Field(default="text", pattern=r"^(text|json)$")
    staff_session_hours: int = Field(default=12, ge=1, le=24 * 30)

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
    def sandbox(self) -> bool:
        """True when no WhatsApp credentials are configured: messages go to the built-in sandbox."""
        return self.whatsapp_token is None

    @cached_property
    def dbos_database_url(self) -> str:
        """The durable engine's own database: beside the SQLite file, or the same PostgreSQL."""
        if self.database_url.startswith("sqlite"):
            base = self.database_url.removesuffix(".db")
            return f"{base}.dbos.sqlite"
        return self.database_url
