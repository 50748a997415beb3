"""Tables of the web service (SQLAlchemy 2 declarative models); Alembic migrations in ``api/migrations``.

Timestamps are stored as UTC and read back as tz-aware UTC datetimes on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Float, Index, Integer, String, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """A tz-aware datetime stored as naive UTC (portable, sorts correctly); naive input is refused."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: timestamps must carry a timezone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base; ``Base.metadata`` is what the migrations create."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime, dict[str, Any]: JSON, list[str]: JSON}


class Simulation(Base):
    """One power-flow simulation launched through the API (``POST /api/simulations`` or ``runSimulation``).

    ``kind`` is ``assignment`` (the assignment's network), ``load`` (a given P/Q on it),
    ``building`` (a stored interval on the feeder) or ``day`` (a day of stored intervals).
    ``active_power_mw`` / ``reactive_power_mvar`` are the load's [MW] / [Mvar]; ``result``
    holds the rest (bus voltages [pu], loadings [%], losses, a day's summary).
    """

    __tablename__ = "simulations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    launched_at: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))
    request: Mapped[dict[str, Any]]
    active_power_mw: Mapped[float] = mapped_column(Float)
    reactive_power_mvar: Mapped[float] = mapped_column(Float)
    result: Mapped[dict[str, Any]]


class Interval(Base):
    """One meter's means over one interval, from the PV simulator's live results (upserted).

    ``import_power_kw`` / ``export_power_kw``: means of net's positive part and of its negated
    negative part [kW] (null from producers that do not send them). ``battery_power_kw`` (mean [kW],
    positive while charging) and ``battery_soc_kwh`` (at the interval's end [kWh]): null without a battery.
    """

    __tablename__ = "intervals"
    __table_args__ = (Index("ix_intervals_interval_start", "interval_start"),)

    meter_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    interval_start: Mapped[datetime] = mapped_column(primary_key=True)
    interval_s: Mapped[int] = mapped_column(Integer)
    readings: Mapped[int] = mapped_column(Integer)
    meter_power_kw: Mapped[float] = mapped_column(Float)
    pv_power_kw: Mapped[float] = mapped_column(Float)
    net_power_kw: Mapped[float] = mapped_column(Float)
    import_power_kw: Mapped[float | None] = mapped_column(Float, nullable=True)
    export_power_kw: Mapped[float | None] = mapped_column(Float, nullable=True)
    battery_power_kw: Mapped[float | None] = mapped_column(Float, nullable=True)
    battery_soc_kwh: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[datetime]


class GridResult(Base):
    """The feeder's power flow for one interval, from every meter's interval means (upserted).

    Powers [kW]/[kvar] (grid exchange, positive drawn from the upstream grid), voltages [pu],
    loadings [%]; ``buildings`` maps meter id to ``{"vm_pu", "p_kw", "q_kvar"}``;
    ``inputs_updated_at`` is the newest store time of the intervals it was computed from.
    """

    __tablename__ = "grid_results"

    feeder: Mapped[str] = mapped_column(String(64), primary_key=True)
    interval_start: Mapped[datetime] = mapped_column(primary_key=True)
    interval_s: Mapped[int] = mapped_column(Integer)
    meters: Mapped[int] = mapped_column(Integer)
    grid_p_kw: Mapped[float] = mapped_column(Float)
    grid_q_kvar: Mapped[float] = mapped_column(Float)
    vm_min_pu: Mapped[float] = mapped_column(Float)
    vm_max_pu: Mapped[float] = mapped_column(Float)
    trafo_loading_percent: Mapped[float] = mapped_column(Float)
    line_loading_max_percent: Mapped[float] = mapped_column(Float)
    losses_kw: Mapped[float] = mapped_column(Float)
    buildings: Mapped[dict[str, Any]]
    inputs_updated_at: Mapped[datetime]


class RunRecord(Base):
    """A meter's run completed on disk (the PV simulator's run-complete notice)."""

    __tablename__ = "runs"

    run_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    meter_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    meters: Mapped[list[str]]
    readings: Mapped[int] = mapped_column(Integer)
    interval_s: Mapped[int] = mapped_column(Integer)
    first_timestamp: Mapped[datetime]
    last_timestamp: Mapped[datetime]
    completed_at: Mapped[datetime]
