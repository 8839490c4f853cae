"""escalations.order_pk nullable: a staff case about an order never received (its details are missing)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.alter_column("order_pk", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM escalations WHERE order_pk IS NULL")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.alter_column("order_pk", existing_type=sa.Integer(), nullable=False)
