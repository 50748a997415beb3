"""Intervals keep a battery's mean power [kW] and its state of charge at the interval's end [kWh] (issue #19).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("intervals", sa.Column("battery_power_kw", sa.Float(), nullable=True))
    op.add_column("intervals", sa.Column("battery_soc_kwh", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("intervals") as batch:
        batch.drop_column("battery_soc_kwh")
        batch.drop_column("battery_power_kw")
