"""Live results: per-interval means of the written rows, and which intervals to publish.

Pure bookkeeping, no broker and no files:

* :class:`IntervalSums` keeps, for one day file, the row count and the sums of meter
  and PV power of its recent intervals, in integer 0.1 W units (exact, like
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

from common.schema import DEFAULT_RESULTS_INTERVAL_S as DEFAULT_INTERVAL_S
from common.schema import SCHEMA_VERSION, format_utc


def interval_start(epoch_s: int, interval_s: int) -> int:
    """Start [epoch s] of the interval holding ``epoch_s``: the largest multiple of ``interval_s`` not after it."""
    return epoch_s - epoch_s % interval_s


@dataclass(frozen=True)
class Sums:
    """Rows of one meter in one interval: count and sums of meter, PV and imported power [0.1 W].

    ``import_dw`` sums the positive part of each row's net power (meter − PV + battery); the
    exported part follows as ``import_dw − net_dw``. Both are kept because net power crosses
    zero within an interval, so a mean of net cannot give the energy imported and exported (the
    day's summary sums them row by row).

    With a battery behind the meter, ``battery_dw`` sums its power [0.1 W] (positive while
    charging) and ``battery_soc_dwh`` is its state of charge after the interval's latest row
    [0.1 Wh]; both are None without one. ``a + b`` adds in time order: ``b``'s rows come after
    ``a``'s, so its state of charge wins when it has one.
    """

    readings: int = 0
    meter_dw: int = 0
    pv_dw: int = 0
    import_dw: int = 0
    battery_dw: int | None = None
    battery_soc_dwh: int | None = None

    @property
    def net_dw(self) -> int:
        """Sum of net power, meter − PV + battery [0.1 W]."""
        return self.meter_dw - self.pv_dw + (self.battery_dw or 0)

    @property
    def export_dw(self) -> int:
        """Sum of the negative part of net power, as a positive number [0.1 W]."""
        return self.import_dw - self.net_dw

    def __add__(self, other: Sums) -> Sums:
        battery_dw = None if self.battery_dw is None and other.battery_dw is None else \
            (self.battery_dw or 0) + (other.battery_dw or 0)
        soc_dwh = other.battery_soc_dwh if other.readings and other.battery_soc_dwh is not None \
            else self.battery_soc_dwh
        return Sums(self.readings + other.readings, self.meter_dw + other.meter_dw, self.pv_dw + other.pv_dw,
                    self.import_dw + other.import_dw, battery_dw, soc_dwh)


RECENT_INTERVALS = 16
"""Intervals per day file whose sums are always held: the latest ones with a counted row (32 bytes each)."""


class IntervalSums:
    """Row counts and power sums per results interval over the span [start_s, end_s) [epoch s] (one local day).

    Only a window of intervals is held: the :data:`RECENT_INTERVALS` latest up to the
    latest one with a counted row, and every interval from the latest one before the
    last :meth:`add_rows` call on (a write may close many intervals of one meter, all
    published right after it).
    Rows of an earlier interval are not counted and :meth:`get` answers None for it: the
    caller reads the rows from the file (a late row, rare). Holding every interval of a
    day cost 46 kB per day file at 60 s, 46 MB at 1,000 meters; the window costs at most
    32 bytes per interval of the last write.
    """

    def __init__(self, start_s: int, end_s: int, interval_s: int, recent: int | None = RECENT_INTERVALS,
                 battery: bool = False) -> None:
        """``recent``: intervals held below the latest one; None holds the whole span. ``battery``: the rows
        carry a battery's power [0.1 W] and state of charge [0.1 Wh] (:meth:`add` and :meth:`add_rows` take
        them; :meth:`get` gives :attr:`Sums.battery_dw` and the state of charge of each interval's latest row)."""
        self.interval_s = interval_s
        self.battery = battery
        self.origin_s = interval_start(start_s, interval_s)
        self._count = (end_s - self.origin_s + interval_s - 1) // interval_s
        self._recent = self._count if recent is None else recent
        self._low = 0  # intervals [_low, _low + len(_sums)) are held; before _low unknown, after it empty
        # per held interval: readings, meter, PV, import [0.1 W]; with a battery also its power [0.1 W], the state
        # of charge [0.1 Wh] of the latest row and that row's instant [epoch s] (late rows may come after it)
        self._columns = 7 if battery else 4
        self._sums = np.zeros((0, self._columns), dtype=np.int64)

    def add(self, epoch_s: int, meter_dw: int, pv_dw: int, battery_dw: int = 0, soc_dwh: int = 0) -> None:
        """Count a row at ``epoch_s`` (within the span) with meter and PV power [0.1 W] (and, with a battery, its
        power [0.1 W] and state of charge after the row [0.1 Wh])."""
        index = (epoch_s - self.origin_s) // self.interval_s
        if not self._hold(index, index):
            return
        held = self._sums[index - self._low]
        if not self.battery:
            held += (1, meter_dw, pv_dw, max(meter_dw - pv_dw, 0))
            return
        held[:5] += (1, meter_dw, pv_dw, max(meter_dw - pv_dw + battery_dw, 0), battery_dw)
        if held[0] == 1 or epoch_s >= held[6]:
            held[5:] = (soc_dwh, epoch_s)

    def add_rows(self, epoch_s: npt.NDArray[np.int64], meter_dw: npt.NDArray[np.int64],
                 pv_dw: npt.NDArray[np.int64], battery_dw: npt.NDArray[np.int64] | None = None,
                 soc_dwh: npt.NDArray[np.int64] | None = None) -> None:
        """Count rows at once (vectorised): (n,) instants [epoch s] within the span, meter and PV power [0.1 W]
        (and, with a battery, its power [0.1 W] and state of charge after each row [0.1 Wh])."""
        if epoch_s.shape[0] == 0:
            return
        index = (epoch_s - self.origin_s) // self.interval_s
        if not self._hold(int(index.min()), int(index.max())):
            return
        keep = index >= self._low
        if not self.battery:
            if not keep.all():
                index, meter_dw, pv_dw = index[keep], meter_dw[keep], pv_dw[keep]
            values = np.column_stack((np.ones_like(meter_dw), meter_dw, pv_dw, np.maximum(meter_dw - pv_dw, 0)))
            np.add.at(self._sums, index - self._low, values)
            return
        if battery_dw is None or soc_dwh is None:
            raise ValueError("these sums carry a battery: give its power and state of charge of each row")
        index, epoch_s, meter_dw, pv_dw = index[keep], epoch_s[keep], meter_dw[keep], pv_dw[keep]
        battery_dw, soc_dwh = battery_dw[keep], soc_dwh[keep]
        rows = index - self._low
        values = np.column_stack((np.ones_like(meter_dw), meter_dw, pv_dw,
                                  np.maximum(meter_dw - pv_dw + battery_dw, 0), battery_dw))
        empty = self._sums[:, 0] == 0
        np.add.at(self._sums[:, :5], rows, values)
        # the latest row of each interval: sort by (interval, instant), take each interval's last
        order = np.lexsort((epoch_s, rows))
        last = order[np.r_[rows[order][1:] != rows[order][:-1], True]]
        later = empty[rows[last]] | (epoch_s[last] >= self._sums[rows[last], 6])
        self._sums[rows[last[later]], 5] = soc_dwh[last[later]]
        self._sums[rows[last[later]], 6] = epoch_s[last[later]]

    def _hold(self, first: int, last: int) -> bool:
        """Move the window to hold intervals ``first``..``last`` (as far as known) and the recent ones before
        ``last``; False if none of them can be held (all before the window)."""
        held_top = self._low + len(self._sums) - 1  # the interval open at the last call, usually: keep it
        top = max(held_top, last)
        low = max(self._low, min(first, held_top if held_top >= 0 else first, top - self._recent + 1))
        if low > last:
            return False
        if low != self._low or top != self._low + len(self._sums) - 1:
            sums = np.zeros((top - low + 1, self._columns), dtype=np.int64)
            keep_from = max(low, self._low)
            kept = self._sums[keep_from - self._low:]
            sums[keep_from - low:keep_from - low + len(kept)] = kept
            self._low, self._sums = low, sums
        return True

    @property
    def wide(self) -> bool:
        """Whether more than the recent intervals are held (the last write spanned many)."""
        return len(self._sums) > self._recent + 1

    def trim(self) -> None:
        """Let go of all but the recent intervals (after counting a whole file: none of its intervals is due)."""
        top = self._low + len(self._sums) - 1
        if top >= 0:
            self._hold(top, top)

    def get(self, start_s: int) -> Sums | None:
        """The sums of the interval starting at ``start_s``: zero if it lies outside the span or after every
        counted row; None if it lies before the window (not held: count its rows from the file)."""
        index = (start_s - self.origin_s) // self.interval_s
        if not 0 <= index < self._count or index >= self._low + len(self._sums):
            return Sums()
        if index < self._low:
            return None
        held = self._sums[index - self._low].tolist()
        if not self.battery:
            return Sums(*held)
        if held[0] == 0:
            return Sums()
        return Sums(*held[:6])


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
