"""Intervals keep the means of net's positive and negative parts (import/export) [kW].

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("intervals", sa.Column("import_power_kw", sa.Float(), nullable=True))
    op.add_column("intervals", sa.Column("export_power_kw", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("intervals") as batch:
        batch.drop_column("export_power_kw")
        batch.drop_column("import_power_kw")
