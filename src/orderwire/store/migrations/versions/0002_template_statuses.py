"""template statuses: Meta's status, category and approved components per (shop, template, language)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 09:12:40.118034
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import orderwire.store.tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "template_statuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column(
            "components",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("signature", sa.String(length=64), nullable=True),
        sa.Column("status_at", orderwire.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", orderwire.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_template_statuses_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_statuses")),
        sa.UniqueConstraint("shop_id", "name", "language", name="uq_template_statuses_shop_name_language"),
    )


def downgrade() -> None:
    op.drop_table("template_statuses")
