"""Reads and writes of the web service's tables; each function takes an open session (one transaction).

Upserts use the dialect's ``INSERT ... ON CONFLICT DO UPDATE`` (SQLite and PostgreSQL), so
a redelivered or republished result simply replaces the stored one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Insert, Select, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from api.db.models import Base, GridResult, Interval, RunRecord, Simulation


def _insert(session: Session, model: type[Base]) -> Any:
    """The dialect's ``insert`` (with ``on_conflict_do_update``) for ``model``."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(model)


def _upsert(session: Session, model: type[Base], rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
    if not rows:
        return
    statement = _insert(session, model).values(list(rows))
    updates = {name: statement.excluded[name] for name in rows[0] if name not in keys}
    upsert: Insert = statement.on_conflict_do_update(index_elements=list(keys), set_=updates)
    session.execute(upsert)


def upsert_intervals(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Store interval results (dicts of :class:`Interval`'s columns), replacing same (meter, start)."""
    # Within one statement a key may appear once: keep the last of duplicates.
    unique = {(row["meter_id"], row["interval_start"]): row for row in rows}
    for chunk in _chunks(list(unique.values()), 500):
        _upsert(session, Interval, chunk, ("meter_id", "interval_start"))


def upsert_grid_result(session: Session, row: dict[str, Any]) -> None:
    """Store a grid result (a dict of :class:`GridResult`'s columns), replacing same (feeder, start)."""
    _upsert(session, GridResult, [row], ("feeder", "interval_start"))


def upsert_run(session: Session, row: dict[str, Any]) -> None:
    """Store a run-complete notice (a dict of :class:`RunRecord`'s columns)."""
    _upsert(session, RunRecord, [row], ("run_id", "meter_id"))


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def add_simulation(session: Session, simulation: Simulation) -> Simulation:
    """Insert ``simulation`` and return it with its ``id``."""
    session.add(simulation)
    session.flush()
    return simulation


def latest_simulation(session: Session) -> Simulation | None:
    """The simulation launched last (highest id), or ``None``."""
    return session.scalars(select(Simulation).order_by(Simulation.id.desc()).limit(1)).first()


def get_simulation(session: Session, simulation_id: int) -> Simulation | None:
    """The simulation with ``simulation_id``, or ``None``."""
    return session.get(Simulation, simulation_id)


def list_simulations(session: Session, limit: int, offset: int) -> tuple[list[Simulation], int]:
    """A page of simulations, newest first, and the total count."""
    rows = session.scalars(select(Simulation).order_by(Simulation.id.desc()).limit(limit).offset(offset)).all()
    total = session.scalar(select(func.count()).select_from(Simulation)) or 0
    return list(rows), total


def meters(session: Session) -> list[tuple[str, int, datetime, datetime]]:
    """``(meter_id, intervals, first_start, last_start)`` of every meter with stored intervals."""
    statement = (
        select(Interval.meter_id, func.count(), func.min(Interval.interval_start), func.max(Interval.interval_start))
        .group_by(Interval.meter_id)
        .order_by(Interval.meter_id)
    )
    rows = session.execute(statement)
    return [(meter_id, count, _aware(first), _aware(last)) for meter_id, count, first, last in rows]


def meter_exists(session: Session, meter_id: str) -> bool:
    """Whether any interval of ``meter_id`` is stored."""
    return session.scalar(select(Interval.meter_id).where(Interval.meter_id == meter_id).limit(1)) is not None


def _intervals_between(what: Sequence[Any], start: datetime, end: datetime, meter_id: str | None) -> Select[Any]:
    """``select(*what)`` of the intervals starting in ``[start, end)``, of one meter or all, by start then meter."""
    statement = select(*what).where(Interval.interval_start >= start, Interval.interval_start < end)
    if meter_id is not None:
        statement = statement.where(Interval.meter_id == meter_id)
    return statement.order_by(Interval.interval_start, Interval.meter_id)


def intervals_between(session: Session, start: datetime, end: datetime, meter_id: str | None = None) -> list[Interval]:
    """Intervals starting in ``[start, end)``, of one meter or all, by start then meter."""
    return list(session.scalars(_intervals_between([Interval], start, end, meter_id)).all())


def interval_values_between(session: Session, start: datetime, end: datetime, columns: Sequence[str],
                            meter_id: str | None = None) -> list[dict[str, Any]]:
    """:func:`intervals_between`'s rows as plain dicts of ``columns`` (no ORM objects: a day's
    1,440 rows in a fraction of the time, for answers that only serialise them)."""
    statement = _intervals_between([Interval.__table__.c[name] for name in columns], start, end, meter_id)
    return [dict(row) for row in session.execute(statement).mappings()]


def intervals_at(session: Session, interval_start: datetime) -> list[Interval]:
    """Every meter's interval starting at ``interval_start``."""
    statement = select(Interval).where(Interval.interval_start == interval_start).order_by(Interval.meter_id)
    return list(session.scalars(statement).all())


def intervals_at_many(session: Session, starts: Sequence[datetime]) -> dict[datetime, list[Interval]]:
    """Every meter's intervals at each of ``starts``, by start (starts without any are left out)."""
    found: dict[datetime, list[Interval]] = {}
    for chunk in range(0, len(starts), 500):
        statement = select(Interval).where(Interval.interval_start.in_(starts[chunk:chunk + 500]))
        for row in session.scalars(statement.order_by(Interval.interval_start, Interval.meter_id)):
            found.setdefault(row.interval_start, []).append(row)
    return found


def grid_inputs_at(session: Session, feeder: str, starts: Sequence[datetime]) -> dict[datetime, datetime]:
    """``inputs_updated_at`` of the stored grid results of ``feeder`` at ``starts``."""
    found: dict[datetime, datetime] = {}
    for chunk in range(0, len(starts), 500):
        statement = select(GridResult.interval_start, GridResult.inputs_updated_at).where(
            GridResult.feeder == feeder, GridResult.interval_start.in_(starts[chunk:chunk + 500]))
        found.update({start: updated for start, updated in session.execute(statement)})
    return found


def runs_overlapping(session: Session, first: datetime, last: datetime) -> list[tuple[datetime, datetime, list[str]]]:
    """``(first_timestamp, last_timestamp, meters)`` of completed runs overlapping ``[first, last]``."""
    statement = select(RunRecord.first_timestamp, RunRecord.last_timestamp, RunRecord.meters).where(
        RunRecord.first_timestamp <= last, RunRecord.last_timestamp >= first)
    return [(a, b, list(m)) for a, b, m in session.execute(statement)]


def interval_containing(session: Session, meter_id: str, moment: datetime, longest_s: int = 86_400) -> Interval | None:
    """The stored interval of ``meter_id`` with ``start <= moment < start + interval_s``, or ``None``."""
    statement = (
        select(Interval)
        .where(Interval.meter_id == meter_id, Interval.interval_start <= moment,
               Interval.interval_start > moment - timedelta(seconds=longest_s))
        .order_by(Interval.interval_start.desc())
        .limit(1)
    )
    found = session.scalars(statement).first()
    if found is None or moment >= found.interval_start + timedelta(seconds=found.interval_s):
        return None
    return found


def meters_between(session: Session, start: datetime, end: datetime) -> set[str]:
    """Meters with an interval starting in ``[start, end)``."""
    statement = select(Interval.meter_id).where(Interval.interval_start >= start, Interval.interval_start < end)
    return set(session.scalars(statement.distinct()).all())


def run_meters_covering(session: Session, moment: datetime) -> set[str]:
    """Every meter of the completed runs whose span covers ``moment``."""
    statement = select(RunRecord.meters).where(RunRecord.first_timestamp <= moment,
                                               RunRecord.last_timestamp >= moment)
    found: set[str] = set()
    for meters_of_run in session.scalars(statement).all():
        found.update(meters_of_run)
    return found


def _grid_results_between(what: Sequence[Any], feeder: str, start: datetime, end: datetime) -> Select[Any]:
    """``select(*what)`` of ``feeder``'s grid results starting in ``[start, end)``, in time order."""
    return (select(*what)
            .where(GridResult.feeder == feeder, GridResult.interval_start >= start, GridResult.interval_start < end)
            .order_by(GridResult.interval_start))


def grid_results_between(session: Session, feeder: str, start: datetime, end: datetime) -> list[GridResult]:
    """Grid results of ``feeder`` starting in ``[start, end)``, in time order."""
    return list(session.scalars(_grid_results_between([GridResult], feeder, start, end)).all())


def grid_result_values_between(session: Session, feeder: str, start: datetime, end: datetime,
                               columns: Sequence[str]) -> list[dict[str, Any]]:
    """:func:`grid_results_between`'s rows as plain dicts of ``columns`` (see :func:`interval_values_between`)."""
    statement = _grid_results_between([GridResult.__table__.c[name] for name in columns], feeder, start, end)
    return [dict(row) for row in session.execute(statement).mappings()]


def latest_grid_result(session: Session, feeder: str) -> GridResult | None:
    """The latest interval's grid result of ``feeder``, or ``None``."""
    statement = select(GridResult).where(GridResult.feeder == feeder).order_by(GridResult.interval_start.desc())
    return session.scalars(statement.limit(1)).first()


def latest_intervals(session: Session) -> list[Interval]:
    """Each meter's latest stored interval."""
    latest = (
        select(Interval.meter_id, func.max(Interval.interval_start).label("start"))
        .group_by(Interval.meter_id)
        .subquery()
    )
    statement = select(Interval).join(
        latest, (Interval.meter_id == latest.c.meter_id) & (Interval.interval_start == latest.c.start)
    )
    return list(session.scalars(statement.order_by(Interval.meter_id)).all())


def pending_grid_starts(session: Session, feeder: str, limit: int = 10_000) -> list[datetime]:
    """Interval starts whose grid result is missing or older than their latest interval (derived work)."""
    newest = (
        select(Interval.interval_start, func.max(Interval.updated_at).label("updated"))
        .group_by(Interval.interval_start)
        .subquery()
    )
    statement = (
        select(newest.c.interval_start)
        .outerjoin(GridResult, (GridResult.feeder == feeder) & (GridResult.interval_start == newest.c.interval_start))
        .where((GridResult.inputs_updated_at.is_(None)) | (GridResult.inputs_updated_at < newest.c.updated))
        .order_by(newest.c.interval_start)
        .limit(limit)
    )
    return [_aware(value) for value in session.scalars(statement).all()]


def _aware(value: datetime | str) -> datetime:
    """Aggregates may come back naive, or as text on SQLite: an aware UTC datetime either way."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)
