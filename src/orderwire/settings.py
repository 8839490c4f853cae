"""Configuration from the environment (ORDERWIRE_*); secrets are never read from files in the repo."""

from __future__ import annotations

from functools import cached_property

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

GRAPH_API_URL = "https://graph.facebook.com/v23.0"


class Settings(BaseSettings):
    """Every setting Orderwire reads; see the configuration table in README.md."""

    model_config = SettingsConfigDict(env_prefix="ORDERWIRE_", extra="ignore")

    database_url: str = "sqlite:///./orderwire.db"
    public_url: str = "http://127.0.0.1:8000"
    api_key: SecretStr | None = None

    whatsapp_api_url: str = GRAPH_API_URL
    whatsapp_token: SecretStr | None = None
    whatsapp_phone_number_id: str = "sandbox-number"
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    whatsapp_rate_per_second: int = Field(default=80, ge=1, le=1000)

    shop_name: str = "Demo Shop"
    timezone: str = "Asia/Kolkata"
    quiet_hours_start: int = Field(default=21, ge=0, le=23)
    quiet_hours_end: int = Field(default=9, ge=0, le=23)
    follow_up_days: int = Field(default=4, ge=3, le=7)
    processing_update_threshold_minor: int = Field(default=500_000, ge=0)
    default_delivery_days: int = Field(default=5, ge=1, le=30)

    executor_id: str = "local"
    app_version: str = "1"
    send_max_attempts: int = Field(default=5, ge=1, le=20)
    send_retry_base_seconds: float = Field(default=1.0, gt=0)

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
