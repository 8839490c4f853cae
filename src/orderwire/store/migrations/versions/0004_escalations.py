"""escalations: cases handed to staff (an NDR choice to push by hand, no answer, a missed re-attempt)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import orderwire.store.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("order_pk", sa.Integer(), nullable=False),
        sa.Column("awb", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", orderwire.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_pk"], ["orders.id"], name=op.f("fk_escalations_order_pk_orders")),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_escalations_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
        sa.UniqueConstraint("shop_id", "key", name="uq_escalations_shop_key"),
    )
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_escalations_order_pk"), ["order_pk"], unique=False)
        batch_op.create_index("ix_escalations_open", ["shop_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index("ix_escalations_open")
        batch_op.drop_index(batch_op.f("ix_escalations_order_pk"))
    op.drop_table("escalations")
