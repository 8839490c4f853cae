"""jobs.alt_ref: a second name of the order a job is for (a courier event by AWB, else by order id)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 08:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alt_ref", sa.String(length=200), nullable=True))
        batch_op.create_index("ix_jobs_alt_ref", ["shop_id", "alt_ref", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_alt_ref")
        batch_op.drop_column("alt_ref")
