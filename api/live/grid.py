"""The live grid: the feeder's power flow for each interval once every meter of it has reported.

Which meters an interval needs: the meters of completed runs whose span covers it (from the
PV simulator's run-complete notices) or, while a run is still going, every meter that has
reported an interval on the same local day so far. When an interval has them all, the
configured feeder's power flow runs for it (``grid.snapshot.run_buildings_snapshot``) and
the result is stored (upserted) and pushed; a later change of one of its intervals runs it
again. The work is derived from the database, so a restart picks up whatever was left:
intervals whose grid result is missing or older than them.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from api.db import queries
from api.db.engine import Database, DatabaseUnavailable
from api.live.hub import Hub, LiveMessage
from api.power_flows import PowerFlowError, PowerFlows, building_kw
from api.schemas import GridResultOut
from common.clock import day_bounds_s
from grid.result import BUILDING_STATE, FEEDER_STATE

log = logging.getLogger(__name__)

BATCH = 1024
"""Most intervals solved in one go (a backlog is worked off in batches of this size)."""


class LiveGrid:
    """Runs the feeder's power flow for complete intervals, one at a time in time order.

    ``notify`` (from the results consumer, on the event loop) queues work; ``run()`` is a task
    for the service's lifetime. The power flows run in a worker thread.
    """

    def __init__(self, db: Database, hub: Hub, flows: PowerFlows, feeder: str, tz: ZoneInfo) -> None:
        self.db = db
        self.hub = hub
        self.flows = flows
        self.feeder = feeder
        self.tz = tz
        self._heap: list[datetime] = []
        self._pending: set[datetime] = set()
        self._meters_of_day: dict[date, set[str]] = defaultdict(set)
        self._wake = asyncio.Event()
        self.computed = 0
        self.failed = 0
        self._reported: set[str] = set()

    def notify(self, changed: set[tuple[str, datetime]]) -> None:
        """Intervals ``(meter_id, interval_start)`` were stored: their grid results are due."""
        for meter_id, start in changed:
            self._meters_of_day[self._day(start)].add(meter_id)
            self._add(start)
        self._wake.set()

    def _add(self, start: datetime) -> None:
        if start not in self._pending:
            self._pending.add(start)
            heapq.heappush(self._heap, start)

    def _day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    async def run(self) -> None:
        """Catch up on what is due in the database, then compute whatever is notified, until cancelled."""
        for start in await self._retrying(lambda s: queries.pending_grid_starts(s, self.feeder)):
            self._add(start)
        if self._pending:
            log.info("live grid: %d interval(s) due from before the start", len(self._pending))
        while True:
            if not self._heap:
                self._wake.clear()
                await self._wake.wait()
                continue
            starts = [heapq.heappop(self._heap) for _ in range(min(BATCH, len(self._heap)))]
            self._pending.difference_update(starts)
            messages = await self._retrying(lambda s, starts=starts: self._compute(s, starts))
            for message in messages:
                self.hub.publish(message)

    async def _retrying(self, work: Any) -> Any:
        delay = 0.25
        while True:
            try:
                return await asyncio.to_thread(self.db.run, work)
            except DatabaseUnavailable:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _expected_meters(self, session: Session, start: datetime,
                         runs: list[tuple[datetime, datetime, list[str]]]) -> set[str]:
        expected = {meter for first, last, meters in runs if first <= start <= last for meter in meters}
        if expected:
            return expected
        day = self._day(start)
        if day not in self._meters_of_day:  # after a restart: read the day's meters once
            first_s, end_s = day_bounds_s(day, self.tz)
            self._meters_of_day[day] = queries.meters_between(
                session, datetime.fromtimestamp(first_s, UTC), datetime.fromtimestamp(end_s, UTC))
        return self._meters_of_day[day]

    def _compute(self, session: Session, starts: list[datetime]) -> list[LiveMessage]:
        """Power flows of the ``starts`` whose meters all reported; stores them, returns their live messages.

        Intervals with the same meters are solved together in one batch (``grid.timeseries``,
        power-grid-model): a backlog of a day costs about as much as one snapshot.
        """
        found = queries.intervals_at_many(session, starts)
        runs = queries.runs_overlapping(session, starts[0], starts[-1]) if found else []
        done = queries.grid_inputs_at(session, self.feeder, list(found))
        groups: dict[tuple[str, ...], list[datetime]] = defaultdict(list)
        for start in starts:
            present = {interval.meter_id for interval in found.get(start, [])}
            if not present or not self._expected_meters(session, start, runs) <= present:
                continue
            if start in done and done[start] >= max(interval.updated_at for interval in found[start]):
                continue  # already solved from these very inputs (notified twice)
            groups[tuple(sorted(present))].append(start)
        rows = []
        for group in groups.values():
            for start, state in zip(group, self._solve(found, group), strict=True):
                if state is not None:
                    intervals = found[start]
                    rows.append(grid_row(self.feeder, start, intervals[0].interval_s, len(intervals), state,
                                         max(interval.updated_at for interval in intervals)))
        rows.sort(key=lambda row: row["interval_start"])
        for row in rows:
            queries.upsert_grid_result(session, row)
        self.computed += len(rows)
        return [LiveMessage.of("grid", GridResultOut.model_validate(row).model_dump(mode="json")) for row in rows]

    def _solve(self, found: dict[datetime, list[Any]], group: list[datetime]) -> list[dict[str, Any] | None]:
        powers = [{i.meter_id: building_kw(i.meter_power_kw, i.pv_power_kw, i.battery_power_kw) for i in found[start]}
                  for start in group]
        try:
            if len(group) == 1:
                return [self.flows.buildings(self.feeder, powers[0])]
            return list(self.flows.buildings_series(self.feeder, powers))
        except PowerFlowError as error:
            if len(group) > 1:  # find the interval(s) at fault; solve the others one by one
                return [self._solve(found, [start])[0] for start in group]
            self.failed += 1
            if str(error) not in self._reported:  # once per reason, not per interval
                self._reported.add(str(error))
                log.error("live grid: no power flow for %s on feeder %s: %s", group[0].isoformat(), self.feeder,
                          error)
            return [None]


def grid_row(feeder: str, start: datetime, interval_s: int, meters: int, state: dict[str, Any],
             inputs_updated_at: datetime) -> dict[str, Any]:
    """Columns of :class:`api.db.models.GridResult` from a :meth:`PowerFlows.buildings` result.

    ``inputs_updated_at`` is the newest store time of the intervals it was computed from: a grid
    result older than one of its intervals is due again (see ``queries.pending_grid_starts``).
    """
    buildings = {str(meter_id): {name: float(building[name]) for name in BUILDING_STATE}
                 for meter_id, building in state["buildings"].items()}
    return {
        "feeder": feeder, "interval_start": start, "interval_s": interval_s, "meters": meters,
        **{name: float(state[name]) for name in FEEDER_STATE}, "buildings": buildings,
        "inputs_updated_at": inputs_updated_at,
    }
