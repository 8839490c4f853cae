"""send pacing shared by every process: the moments sends were granted in the last second, per number

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import orderwire.store.tables

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_pacing",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("granted", orderwire.store.tables.JSONType, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_send_pacing")),
    )


def downgrade() -> None:
    op.drop_table("send_pacing")
