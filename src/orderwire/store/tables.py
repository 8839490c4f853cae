"""The schema. Every row belongs to a shop; Alembic migrations in store/migrations follow this file."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (no time zones) and PostgreSQL alike."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType: Any = sa.JSON().with_variant(JSONB(), "postgresql")

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

shops = sa.Table(
    "shops",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shop_id", sa.ForeignKey("shops.id"), nullable=False),
    sa.Column("phone", sa.String(20), nullable=False),
    sa.Column("name", sa.String(200), nullable=False, default=""),
    sa.Column("language", sa.String(16), nullable=False, default="en"),
    sa.Column("user_id", sa.String(128)),
    sa.Column("opted_out", sa.Boolean, nullable=False, default=False),
    sa.Column("unreachable_at", UTCDateTime),
    sa.Column("window_expires_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("shop_id", "phone", name="uq_customers_shop_phone"),
    # Conversations (orderwire.bot, migration 0008): a username-only customer is found by user id.
    sa.Index("ix_customers_shop_user", "shop_id", "user_id"),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shop_id", sa.ForeignKey("shops.id"), nullable=False),
    sa.Column("order_id", sa.String(128), nullable=False),
    sa.Column("customer_id", sa.ForeignKey("customers.id"), nullable=False, index=True),
    sa.Column("stage", sa.String(32), nullable=False),
    sa.Column("tracking_token", sa.String(64), nullable=False, unique=True),
    sa.Column("state", JSONType, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("shop_id", "order_id", name="uq_orders_shop_order"),
)

order_refs = sa.Table(
    "order_refs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shop_id", sa.ForeignKey("shops.id"), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("value", sa.String(200), nullable=False),
    sa.Column("order_pk", sa.ForeignKey("orders.id"), nullable=False),
    sa.UniqueConstraint("shop_id", "kind", "value", name="uq_order_refs_shop_kind_value"),
)

inbound = sa.Table(
    "inbound",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shop_id", sa.ForeignKey("shops.id"), nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("dedupe_key", sa.String(200), nullable=False),
    sa.Column("topic", sa.String(100), nullable=False, default=""),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("note", sa.String(500), nullable=False, default=""),
    sa.UniqueConstraint("shop_id", "source", "dedupe_key", name="uq_inbound_shop_source_key"),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shop_id", sa.ForeignKey("shops.id"), nullable=False),
    sa.Column("inbound_id", sa.ForeignKey("inbound.id")),
    sa.Column("order_ref", sa.String(200), nullable=False),
    # Where to look when `order_ref` names no known order: a courier event by AWB falls back to the
    # channel order id it also carries.
    sa.Column("alt_ref", sa.String(200)),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("payload", JSONType, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("available_at", UTCDateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text, nullable=False, default=""),
    sa.Column("dedupe_key", sa.String(200)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("done_at", UTCDateTime),
    sa.UniqueConstraint("shop_id", "dedupe_key", name="uq_jobs_shop_dedupe"),
    sa.Index("ix_jobs_due", "status", "available_at"),
    sa.Index("ix_jobs_ref", "shop_id", "order_ref", "status"),
    sa.Index("ix_jobs_alt_ref", "shop_id", "alt_ref", "status"),
)

timeline = sa.Table(
    "timeline",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("order_pk", sa.ForeignKey("orders.id"), nullable=False, index=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("note", sa.String(500), nullable=False, default=""),
    sa.Column("detail", JSONType, nullable=False),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shop_id", sa.ForeignKey("shops.id"), nullable=False),
    sa.Column("order_pk", sa.ForeignKey("orders.id"), index=True),
    sa.Column("customer_id", sa.ForeignKey("customers.id"), nullable=False, index=True),
    sa.Column("direction", sa.String(3), nullable=False),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("template", sa.String(100), nullable=False, default=""),
    sa.Column("language", sa.String(16), nullable=False, default=""),
    sa.Column("payload", JSONType, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("send_after", UTCDateTime, nullable=False),
    sa.Column("wamid", sa.String(200), unique=True),
    sa.Column("error_code", sa.String(16), nullable=False, default=""),
    sa.Column("error_detail", sa.String(500), nullable=False, default=""),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("needs_attention", sa.Boolean, nullable=False, default=False),
    sa.Column("claimed_by", sa.String(64)),  # the executor sending it (status 'queued')
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("shop_id", "key", name="uq_messages_shop_key"),
    sa.Index("ix_messages_due", "status", "send_after"),
)

message_statuses = sa.Table(
    "message_statuses",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("wamid", sa.String(200), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("detail", JSONType, nullable=False),
    sa.UniqueConstraint("wamid", "status", name="uq_message_statuses_wamid_status"),
)

sandbox_messages = sa.Table(
    "sandbox_messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("phone_number_id", sa.String(64), nullable=False),
    sa.Column("customer_phone", sa.String(20), nullable=False, index=True),
    sa.Column("direction", sa.String(3), nullable=False),
    sa.Column("wamid", sa.String(200), nullable=False, unique=True),
    sa.Column("payload", JSONType, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

template_statuses = sa.Table(
    "template_statuses",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shop_id", sa.ForeignKey("shops.id"), nullable=False),
    sa.Column("name", sa.String(512), nullable=False),
    sa.Column("language", sa.String(16), nullable=False),
    sa.Column("template_id", sa.String(64)),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("category", sa.String(32), nullable=False, default=""),
    sa.Column("reason", sa.String(500), nullable=False, default=""),
    sa.Column("components", JSONType),
    sa.Column("signature", sa.String(64)),
    sa.Column("status_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("shop_id", "name", "language", name="uq_template_statuses_shop_name_language"),
)

escalations = sa.Table(
    "escalations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shop_id", sa.ForeignKey("shops.id"), nullable=False),
    # commerce: NULL for a case about an order never received (details missing; migration 0006).
    sa.Column("order_pk", sa.ForeignKey("orders.id"), nullable=True, index=True),
    sa.Column("awb", sa.String(64), nullable=False, default=""),
    sa.Column("reason", sa.String(64), nullable=False),
    # One escalation per cause (parcel, attempt, reason): a redelivered event never opens a second one.
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("detail", JSONType, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("shop_id", "key", name="uq_escalations_shop_key"),
    sa.Index("ix_escalations_open", "shop_id", "status"),
)

# --- Outbound webhooks and CRM (app/outbound.py) ---
# The outbox: one row per (endpoint, event), written in the transaction that made the change and sent
# by the pump afterwards. `msg_id` is the Standard Webhooks `webhook-id`: the same on every attempt.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shop_id", sa.ForeignKey("shops.id"), nullable=False),
    sa.Column("order_pk", sa.ForeignKey("orders.id"), index=True),
    sa.Column("kind", sa.String(16), nullable=False),  # webhook | hubspot
    sa.Column("endpoint", sa.String(500), nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("msg_id", sa.String(64), nullable=False),
    sa.Column("payload", JSONType, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending | delivered | failed
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("last_status_code", sa.Integer),
    sa.Column("last_error", sa.String(500), nullable=False, default=""),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("delivered_at", UTCDateTime),
    sa.UniqueConstraint("shop_id", "endpoint", "msg_id", name="uq_webhook_deliveries_shop_endpoint_msg"),
    sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
)

# A customer's record in a CRM, by phone, so events reuse it (CRM search lags behind writes).
crm_contacts = sa.Table(
    "crm_contacts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shop_id", sa.ForeignKey("shops.id"), nullable=False),
    sa.Column("crm", sa.String(32), nullable=False),
    sa.Column("phone", sa.String(20), nullable=False),
    sa.Column("external_id", sa.String(64), nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("shop_id", "crm", "phone", name="uq_crm_contacts_shop_crm_phone"),
)
# --- Returns (returns helper): a row per return request, mirrored from the order's state for staff and
# lookups by RMA or label token; photos the customer sent, with their SHA-256 (to spot reused photos).
returns = sa.Table(
    "returns",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shop_id", sa.ForeignKey("shops.id"), nullable=False),
    sa.Column("order_pk", sa.ForeignKey("orders.id"), nullable=False, index=True),
    sa.Column("customer_id", sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("rma", sa.String(32), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False, default=""),
    sa.Column("resolution", sa.String(16), nullable=False, default=""),
    sa.Column("awb", sa.String(64), nullable=False, default=""),
    # The secret part of the label's link (/returns/<token>/label.pdf): 192 random bits.
    sa.Column("label_token", sa.String(64), unique=True),
    sa.Column("refund_minor", sa.BigInteger, nullable=False, default=0),
    sa.Column("currency", sa.String(3), nullable=False, default=""),
    sa.Column("refund_due", UTCDateTime),
    sa.Column("refund_ref", sa.String(100), nullable=False, default=""),
    sa.Column("bank_ref", sa.String(100), nullable=False, default=""),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("shop_id", "rma", name="uq_returns_shop_rma"),
    sa.Index("ix_returns_status", "shop_id", "status"),
)

return_photos = sa.Table(
    "return_photos",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shop_id", sa.ForeignKey("shops.id"), nullable=False),
    sa.Column("return_id", sa.ForeignKey("returns.id"), nullable=False, index=True),
    sa.Column("wamid", sa.String(200), nullable=False),
    sa.Column("media_id", sa.String(128), nullable=False),
    sa.Column("mime", sa.String(100), nullable=False, default=""),
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("storage_key", sa.String(300), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("shop_id", "wamid", name="uq_return_photos_shop_wamid"),
)
# --- end returns ---
# --- staff console (migration 0010): staff users, their sessions, login failures, case notes ---
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False, default=""),
    sa.Column("role", sa.String(16), nullable=False),  # admin | agent
    sa.Column("password_hash", sa.String(200), nullable=False),  # argon2id
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

staff_sessions = sa.Table(
    "staff_sessions",
    metadata,
    # sha256 of the cookie's random 256-bit id: a copy of this table logs no one in.
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)

login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key_hash", sa.String(64), nullable=False),  # sha256 of email + client address
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Index("ix_login_failures_key_at", "key_hash", "at"),
)

case_notes = sa.Table(
    "case_notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.ForeignKey("escalations.id"), nullable=False, index=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

escalations.append_column(sa.Column("assignee_id", sa.ForeignKey("users.id")))
escalations.append_column(sa.Column("resolved_at", UTCDateTime))
escalations.append_column(sa.Column("resolved_by", sa.ForeignKey("users.id")))

# The send pacer all processes share on PostgreSQL (app/sending.py): per sending number, the moments
# (database clock, epoch seconds) sends were granted in the last window.
send_pacing = sa.Table(
    "send_pacing",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("granted", JSONType, nullable=False),
)
