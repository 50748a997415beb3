"""Interval sums of a day file's rows: row counts and power sums per results interval, counted as rows are
written (:class:`IntervalSums`) or read back from the file (:func:`read_interval_sums`, for a late row).

Pure sums of stored rows in integer 0.1 W units (exact, like :class:`models.balance.DayTotals`); no physics.
Intervals are aligned to the Unix epoch (``interval_start`` is a multiple of ``interval_s``), so an interval can
overlap two local days when the site's UTC offset is not a multiple of it; its sums are then the sum over both
day files. Which interval is published when is the PV simulator's (:mod:`pv_simulator.results`).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from common.clock import LocalDay
from store.format import SMALL_BATCH_ROWS, OutputError, parse_row


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


def count_rows(intervals: IntervalSums, values: array[int], battery: array[int] | None = None) -> None:
    """Add rows on disk, given flat as instant [epoch ms], meter, PV [0.1 W] each, to ``intervals``; with a
    battery (``intervals.battery``), ``battery`` gives its power [0.1 W] and state of charge [0.1 Wh] of each,
    flat (None: zeros)."""
    if intervals.battery:
        if values:
            rows = np.frombuffer(values, dtype=np.int64).reshape(-1, 3)
            extra = np.frombuffer(battery or array("q", [0, 0] * (len(values) // 3)), dtype=np.int64).reshape(-1, 2)
            order = np.argsort(rows[:, 0], kind="stable")
            intervals.add_rows(rows[order, 0] // 1000, rows[order, 1], rows[order, 2], extra[order, 0], extra[order, 1])
        return
    if 0 < len(values) < 3 * SMALL_BATCH_ROWS:  # np.add.at costs more than a few rows one by one
        for ms, meter_dw, pv_dw in zip(values[0::3], values[1::3], values[2::3], strict=True):
            intervals.add(ms // 1000, meter_dw, pv_dw)
    elif values:
        rows = np.frombuffer(values, dtype=np.int64).reshape(-1, 3)
        intervals.add_rows(rows[:, 0] // 1000, rows[:, 1], rows[:, 2])


def read_interval_sums(path: Path, size: int, day: LocalDay, interval_s: int, battery: bool) -> IntervalSums:
    """The sums of every interval of ``day``, counted from the first ``size`` bytes of its file at ``path`` (the
    rows a process knows to be there; read unlocked). ``battery``: the rows carry a battery's columns.

    For a row in an interval a day file's :class:`IntervalSums` no longer holds (a late row, rare): costs a read
    of the file (about 0.1 s for a day at 1 s). Raises :class:`OutputError`.
    """
    sums = IntervalSums(day.start_s, day.end_s, interval_s, recent=None, battery=battery)
    try:
        with open(path, "rb") as handle:
            data = handle.read(size)
    except FileNotFoundError:
        return sums
    except OSError as error:
        raise OutputError(f"cannot read {path}: {error.strerror}") from error
    lines = data[:data.rfind(b"\n") + 1].decode().splitlines()[1:]
    rows = [row for line in lines if (row := parse_row(line)) is not None]
    if rows:
        values = np.array([(ms, meter_dw, pv_dw) for ms, _, meter_dw, pv_dw in rows], dtype=np.int64)
        if not battery:
            sums.add_rows(values[:, 0] // 1000, values[:, 1], values[:, 2])
        else:  # the file is in time order
            extra = np.rint(np.array([line.rsplit(",", 2)[1:] for line in lines], dtype=np.float64) * 10_000)
            sums.add_rows(values[:, 0] // 1000, values[:, 1], values[:, 2],
                          extra[:, 0].astype(np.int64), extra[:, 1].astype(np.int64))
    return sums
