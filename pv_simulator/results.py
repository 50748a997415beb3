"""Live results: per-interval means of the written rows, and which intervals to publish.

Pure bookkeeping, no broker and no files:

* :class:`IntervalSums` keeps, for one day file, the row count and the sums of meter
  and PV power of each interval, in integer 0.1 W units (exact, like
  :class:`pv_simulator.summary.DayTotals`). Intervals are aligned to the Unix epoch
  (``interval_start`` is a multiple of ``interval_s``), so an interval can overlap two
  local days when the site's UTC offset is not a multiple of it; its sums are then
  the sum over both day files.
* :class:`IntervalTracker` decides when an interval is published: when it *closes*
  (a later reading of the same meter arrives, or the meter's run ends) and again when
  a late row changes an interval that was already closed.
* :func:`interval_body` and :func:`run_complete_body` give the JSON bodies of
  :class:`common.schema.IntervalResult` and :class:`common.schema.RunComplete`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import orjson

from common.schema import SCHEMA_VERSION, format_utc

DEFAULT_INTERVAL_S = 60
"""Length of a results interval in emulated seconds (``--results-interval-s``)."""


def interval_start(epoch_s: int, interval_s: int) -> int:
    """Start [epoch s] of the interval holding ``epoch_s``: the largest multiple of ``interval_s`` not after it."""
    return epoch_s - epoch_s % interval_s


@dataclass(frozen=True)
class Sums:
    """Rows of one meter in one interval: count and sums of meter, PV and imported power [0.1 W].

    ``import_dw`` sums the positive part of each row's net power (meter − PV); the
    exported part follows as ``import_dw − (meter_dw − pv_dw)``. Both are kept because
    net power crosses zero within an interval, so a mean of net cannot give the energy
    imported and exported (the day's summary sums them row by row).
    """

    readings: int = 0
    meter_dw: int = 0
    pv_dw: int = 0
    import_dw: int = 0

    @property
    def export_dw(self) -> int:
        """Sum of the negative part of net power, as a positive number [0.1 W]."""
        return self.import_dw - (self.meter_dw - self.pv_dw)

    def __add__(self, other: Sums) -> Sums:
        return Sums(self.readings + other.readings, self.meter_dw + other.meter_dw, self.pv_dw + other.pv_dw,
                    self.import_dw + other.import_dw)


class IntervalSums:
    """Per-interval row counts and power sums over the span [start_s, end_s) [epoch s] (one local day).

    Memory: 32 bytes per interval (86,400 / ``interval_s`` per day, about 35 kB at 60 s).
    """

    def __init__(self, start_s: int, end_s: int, interval_s: int) -> None:
        self.interval_s = interval_s
        self.origin_s = interval_start(start_s, interval_s)
        count = (end_s - self.origin_s + interval_s - 1) // interval_s
        self._sums = np.zeros((count, 4), dtype=np.int64)  # readings, meter, PV, import per interval

    def add(self, epoch_s: int, meter_dw: int, pv_dw: int) -> None:
        """Count a row at ``epoch_s`` (within the span) with meter and PV power [0.1 W]."""
        self._sums[(epoch_s - self.origin_s) // self.interval_s] += (1, meter_dw, pv_dw, max(meter_dw - pv_dw, 0))

    def add_rows(self, epoch_s: npt.NDArray[np.int64], meter_dw: npt.NDArray[np.int64],
                 pv_dw: npt.NDArray[np.int64]) -> None:
        """Count rows at once (vectorised): (n,) instants [epoch s] within the span, meter and PV power [0.1 W]."""
        index = (epoch_s - self.origin_s) // self.interval_s
        values = np.column_stack((np.ones_like(meter_dw), meter_dw, pv_dw, np.maximum(meter_dw - pv_dw, 0)))
        np.add.at(self._sums, index, values)

    def get(self, start_s: int) -> Sums:
        """The sums of the interval starting at ``start_s`` (zero if it lies outside the span)."""
        index = (start_s - self.origin_s) // self.interval_s
        if not 0 <= index < len(self._sums):
            return Sums()
        readings, meter_dw, pv_dw, import_dw = (int(v) for v in self._sums[index])
        return Sums(readings, meter_dw, pv_dw, import_dw)


@dataclass
class IntervalTracker:
    """Which (meter, interval start) results are due for publishing.

    Per meter the *open* interval is the one of its latest reading; it closes when a
    reading of a later interval arrives or :meth:`close` is called (end of run). A new
    row in an earlier interval (late, or redelivered after a crash) makes that interval
    due again. Duplicates (rows already on disk) move the open interval forward but
    never make an earlier one due.
    """

    interval_s: int = DEFAULT_INTERVAL_S
    _open: dict[str, int] = field(default_factory=dict)
    _seen: set[str] = field(default_factory=set)
    _due: set[tuple[str, int]] = field(default_factory=set)

    def seen(self, meter_id: str) -> bool:
        """Whether this tracker has seen a row of ``meter_id`` (after a start, earlier intervals are unknown)."""
        return meter_id in self._seen

    def row(self, meter_id: str, epoch_s: int, new: bool = True) -> bool:
        """A reading of ``meter_id`` at ``epoch_s`` was written (``new``) or dropped as a duplicate.

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
        elif start < open_s and new:
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
    """JSON body of an :class:`~common.schema.IntervalResult` (means [kW], 7 decimals, imports/exports included).

    Raises ``ValueError`` for an empty interval (``sums.readings == 0``).
    """
    if sums.readings <= 0:
        raise ValueError(f"interval {format_utc(start_s)} of {meter_id} has no readings")
    scale = 10_000 * sums.readings
    return orjson.dumps({
        "schema": SCHEMA_VERSION,
        "meter_id": meter_id,
        "interval_start": format_utc(start_s),
        "interval_s": interval_s,
        "readings": sums.readings,
        "meter_power_kw": round(sums.meter_dw / scale, 7),
        "pv_power_kw": round(sums.pv_dw / scale, 7),
        "net_power_kw": round((sums.meter_dw - sums.pv_dw) / scale, 7),
        "import_power_kw": round(sums.import_dw / scale, 7),
        "export_power_kw": round(sums.export_dw / scale, 7),
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
