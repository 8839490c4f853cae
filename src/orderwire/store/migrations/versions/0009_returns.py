"""returns and return_photos: return requests (RMA, status, refund) and the photos customers sent

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 10:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import orderwire.store.tables

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("order_pk", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("rma", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("resolution", sa.String(length=16), nullable=False),
        sa.Column("awb", sa.String(length=64), nullable=False),
        sa.Column("label_token", sa.String(length=64), nullable=True),
        sa.Column("refund_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("refund_due", orderwire.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refund_ref", sa.String(length=100), nullable=False),
        sa.Column("bank_ref", sa.String(length=100), nullable=False),
        sa.Column("created_at", orderwire.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", orderwire.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_returns_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["order_pk"], ["orders.id"], name=op.f("fk_returns_order_pk_orders")),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_returns_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_returns")),
        sa.UniqueConstraint("label_token", name=op.f("uq_returns_label_token")),
        sa.UniqueConstraint("shop_id", "rma", name="uq_returns_shop_rma"),
    )
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_returns_order_pk"), ["order_pk"], unique=False)
        batch_op.create_index("ix_returns_status", ["shop_id", "status"], unique=False)
    op.create_table(
        "return_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("wamid", sa.String(length=200), nullable=False),
        sa.Column("media_id", sa.String(length=128), nullable=False),
        sa.Column("mime", sa.String(length=100), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column("created_at", orderwire.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["return_id"], ["returns.id"], name=op.f("fk_return_photos_return_id_returns")
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_return_photos_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_photos")),
        sa.UniqueConstraint("shop_id", "wamid", name="uq_return_photos_shop_wamid"),
    )
    with op.batch_alter_table("return_photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_return_photos_return_id"), ["return_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_return_photos_sha256"), ["sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("return_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_return_photos_sha256"))
        batch_op.drop_index(batch_op.f("ix_return_photos_return_id"))
    op.drop_table("return_photos")
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_index("ix_returns_status")
        batch_op.drop_index(batch_op.f("ix_returns_order_pk"))
    op.drop_table("returns")
