"""Live results: per-interval means of the written rows, and which intervals to publish.

Pure bookkeeping, no broker and no files (the sums of each interval's rows are the store's,
:class:`store.intervals.IntervalSums`, also importable from here):

* :class:`IntervalTracker` decides when an interval is published: when it *closes*
  (a later reading of the same meter arrives, or the meter's run ends) and again when
  a late row changes an interval that was already closed.
* :func:`interval_body` and :func:`run_complete_body` give the JSON bodies of
  :class:`common.schema.IntervalResult` and :class:`common.schema.RunComplete`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from common.schema import DEFAULT_RESULTS_INTERVAL_S as DEFAULT_INTERVAL_S
from common.schema import SCHEMA_VERSION, format_utc
from store.intervals import RECENT_INTERVALS as RECENT_INTERVALS
from store.intervals import IntervalSums as IntervalSums
from store.intervals import Sums as Sums
from store.intervals import interval_start as interval_start


@dataclass
class IntervalTracker:
    """Which (meter, interval start) results are due for publishing.

    Per meter the *open* interval is the one of its latest reading; it closes when a
    reading of a later interval arrives or :meth:`close` is called (end of run). A new
    row in an earlier interval (late, or redelivered after a crash) makes that interval
    due again, and so does a duplicate (a row already on disk) in an earlier interval: an
    earlier process wrote that row and may have stopped before publishing its interval, and
    the broker may hand that process's unacked readings back after newer ones (seen after a
    disk-full stop: the restarted simulator's first deliveries were live readings). Consumers
    upsert, so a result published twice costs a message; one never published is a gap.
    """

    interval_s: int = DEFAULT_INTERVAL_S
    _open: dict[str, int] = field(default_factory=dict)
    _seen: set[str] = field(default_factory=set)
    _due: set[tuple[str, int]] = field(default_factory=set)

    def seen(self, meter_id: str) -> bool:
        """Whether this tracker has seen a row of ``meter_id`` (after a start, earlier intervals are unknown)."""
        return meter_id in self._seen

    def row(self, meter_id: str, epoch_s: int) -> bool:
        """A reading of ``meter_id`` at ``epoch_s`` was written or dropped as a duplicate (the same either way).

        Returns True for the first row of the meter this tracker sees.
        """
        start = epoch_s - epoch_s % self.interval_s
        open_s = self._open.get(meter_id)
        if open_s == start:
            return False
        if open_s is None:
            self._open[meter_id] = start
            if meter_id not in self._seen:
                self._seen.add(meter_id)
                return True
        elif start > open_s:
            self._due.add((meter_id, open_s))
            self._open[meter_id] = start
        elif start < open_s:  # late, or a duplicate whose interval an earlier process may not have published
            self._due.add((meter_id, start))
        return False

    def mark(self, meter_id: str, epoch_s: int) -> None:
        """Make the interval holding ``epoch_s`` due (e.g. one a crashed process may not have published)."""
        self._due.add((meter_id, epoch_s - epoch_s % self.interval_s))

    def close(self, meter_id: str) -> None:
        """The meter's run ended: its open interval is due."""
        open_s = self._open.pop(meter_id, None)
        if open_s is not None:
            self._due.add((meter_id, open_s))

    @property
    def pending(self) -> bool:
        """Whether some interval is due."""
        return bool(self._due)

    def take(self) -> list[tuple[str, int]]:
        """Every due (meter id, interval start [epoch s]), in time order per meter; clears them."""
        due = sorted(self._due)
        self._due.clear()
        return due

    def retry(self, items: list[tuple[str, int]]) -> None:
        """Make ``items`` due again (their publishes were not confirmed)."""
        self._due.update(items)


def interval_body(meter_id: str, start_s: int, interval_s: int, sums: Sums) -> bytes:
    """JSON body of an :class:`~common.schema.IntervalResult` (means [kW], 7 decimals, imports/exports included;
    the battery's mean power and end-of-interval state of charge [kWh] when ``sums`` carry them).

    Raises ``ValueError`` for an empty interval (``sums.readings == 0``).
    """
    if sums.readings <= 0:
        raise ValueError(f"interval {format_utc(start_s)} of {meter_id} has no readings")
    scale = 10_000 * sums.readings
    battery = {} if sums.battery_dw is None else {"battery_power_kw": round(sums.battery_dw / scale, 7)}
    if sums.battery_soc_dwh is not None:
        battery["battery_soc_kwh"] = round(sums.battery_soc_dwh / 10_000, 7)
    return orjson.dumps({
        "schema": SCHEMA_VERSION,
        "meter_id": meter_id,
        "interval_start": format_utc(start_s),
        "interval_s": interval_s,
        "readings": sums.readings,
        "meter_power_kw": round(sums.meter_dw / scale, 7),
        "pv_power_kw": round(sums.pv_dw / scale, 7),
        "net_power_kw": round(sums.net_dw / scale, 7),
        "import_power_kw": round(sums.import_dw / scale, 7),
        "export_power_kw": round(sums.export_dw / scale, 7),
        **battery,
    })


def run_complete_body(run_id: str, meters: tuple[str, ...] | list[str], meter_id: str, readings: int,
                      interval_s: int, first_s: float, last_s: float) -> bytes:
    """JSON body of a :class:`~common.schema.RunComplete` for one meter of a complete run."""
    return orjson.dumps({
        "schema": SCHEMA_VERSION,
        "meter_id": meter_id,
        "run_id": run_id,
        "meters": list(meters),
        "readings": readings,
        "interval_s": interval_s,
        "first_timestamp": format_utc(first_s),
        "last_timestamp": format_utc(last_s),
    })
