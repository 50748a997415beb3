"""Initial tables: simulations, intervals, grid_results, runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from api.db.models import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "simulations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("launched_at", UtcDateTime(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("active_power_mw", sa.Float(), nullable=False),
        sa.Column("reactive_power_mvar", sa.Float(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
    )
    op.create_index("ix_simulations_launched_at", "simulations", ["launched_at"])
    op.create_table(
        "intervals",
        sa.Column("meter_id", sa.String(64), primary_key=True),
        sa.Column("interval_start", UtcDateTime(), primary_key=True),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("readings", sa.Integer(), nullable=False),
        sa.Column("meter_power_kw", sa.Float(), nullable=False),
        sa.Column("pv_power_kw", sa.Float(), nullable=False),
        sa.Column("net_power_kw", sa.Float(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_intervals_interval_start", "intervals", ["interval_start"])
    op.create_table(
        "grid_results",
        sa.Column("feeder", sa.String(64), primary_key=True),
        sa.Column("interval_start", UtcDateTime(), primary_key=True),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("meters", sa.Integer(), nullable=False),
        sa.Column("grid_p_kw", sa.Float(), nullable=False),
        sa.Column("grid_q_kvar", sa.Float(), nullable=False),
        sa.Column("vm_min_pu", sa.Float(), nullable=False),
        sa.Column("vm_max_pu", sa.Float(), nullable=False),
        sa.Column("trafo_loading_percent", sa.Float(), nullable=False),
        sa.Column("line_loading_max_percent", sa.Float(), nullable=False),
        sa.Column("losses_kw", sa.Float(), nullable=False),
        sa.Column("buildings", sa.JSON(), nullable=False),
        sa.Column("inputs_updated_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(128), primary_key=True),
        sa.Column("meter_id", sa.String(64), primary_key=True),
        sa.Column("meters", sa.JSON(), nullable=False),
        sa.Column("readings", sa.Integer(), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("first_timestamp", UtcDateTime(), nullable=False),
        sa.Column("last_timestamp", UtcDateTime(), nullable=False),
        sa.Column("completed_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("runs")
    op.drop_table("grid_results")
    op.drop_index("ix_intervals_interval_start", "intervals")
    op.drop_table("intervals")
    op.drop_index("ix_simulations_launched_at", "simulations")
    op.drop_table("simulations")
