"""The running service's parts, built once by bootstrap and shared by the web layer and the workers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from orderwire.domain.policy import ShopPolicy
from orderwire.domain.templates import TemplateDefinition
from orderwire.integrations.whatsapp.client import CloudApiClient
from orderwire.settings import Settings


def utc_now() -> datetime:
    """The wall clock, in UTC (the only place the service reads it)."""
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Settings, database, shop rules, catalogue and the WhatsApp client of one process."""

    settings: Settings
    engine: sa.Engine
    shop_id: str
    policy: ShopPolicy
    catalogue: dict[str, TemplateDefinition]
    whatsapp: CloudApiClient
    api_key: str
    app_secret: str
    verify_token: str
    whatsapp_token: str
    clock: Callable[[], datetime] = utc_now
    work_available: threading.Event = field(default_factory=threading.Event)

    def wake(self) -> None:
        """Tell the pump there is new work (it also polls on its own)."""
        self.work_available.set()
