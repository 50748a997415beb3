"""The day file of a meter with a home battery: rows with the battery's two columns after meter and PV power.

The columns (battery power [kW], state of charge [kWh], :data:`store.format.BATTERY_HEADER`) are computed
outside the store, from a meter's rows in time order (:class:`store.columns.DeviceColumns`; the PV simulator's
dispatch), so the rows are always appended in time order: a queued row not later than the meter's last one
makes the day be recomputed and rewritten, then every later day of the meter on disk. Its interval sums also
hold the battery's power [0.1 W] and state of charge [0.1 Wh]. Locking, the index and catch-up are
:class:`~store.dayfile.DayFile`'s.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

from common.clock import LocalDay
from store.columns import DeviceColumns, IntArray
from store.dayfile import DayFile
from store.intervals import IntervalSums


class BatteryDayFile(DayFile):
    """A :class:`~store.dayfile.DayFile` whose rows carry a battery's ``columns``, written in time order."""

    def __init__(self, path: Path, meter_id: str, day: LocalDay, results_interval_s: int,
                 columns: DeviceColumns) -> None:
        self._columns = columns  # set before the file is read: reading counts the battery's columns
        self._appended: IntArray | None = None  # the rows appended (n, 5) until synced, for the interval sums
        super().__init__(path, meter_id, day, results_interval_s, columns.header)

    def _empty_sums(self, interval_s: int) -> IntervalSums:
        """Interval sums of this day with nothing counted, ``interval_s`` [s] long each, the battery's too."""
        return IntervalSums(self.day.start_s, self.day.end_s, interval_s, battery=True)

    def _extra_values(self, line: str) -> Iterable[int]:
        """The battery's power [0.1 W] and state of charge [0.1 Wh] of a row (its last two columns [kW, kWh])."""
        return (round(float(text) * 10_000) for text in line.rsplit(",", 2)[1:])

    def _rows_to_append(self, handle: io.BufferedRandom) -> bytes | None:
        """With the lock held: the queued rows with the battery's columns, dispatched in time order; None if one
        is not later than the meter's last row, after rewriting the day (and the later ones) with them."""
        appended = self._columns.append_rows(self.meter_id, self.day, self._queued_array())
        if appended is None:
            self._rewrite_late(handle)
            return None
        rows, self._appended = appended
        self.in_order = True  # dispatched in time order, whatever order they were queued in
        return rows

    def _rewrite_late(self, handle: io.BufferedRandom) -> None:
        """With the lock held: the day's rows on disk and the queued ones, recomputed in time order, replace the
        file; then every later day of the meter on disk (see :class:`~store.columns.DeviceColumns`)."""
        handle.seek(0)
        self._replace_locked(self._columns.day_content(self.meter_id, self.day, handle.read(), self._queued_array()))
        self.rows -= len(self._pending_values) // 3  # counted by synced()
        self.in_order = True
        self._rewritten()
        self._appended = self._columns.last_rows[:0]  # counted already: synced() counts nothing more
        self._columns.rewrite_later(self.meter_id, self.day.day)

    def _count_synced(self) -> None:
        """Add the rows :meth:`append` wrote to the interval sums, with the battery's columns it computed."""
        if self._appended is None:
            super()._count_synced()
            return
        rows, self._appended = self._appended, None
        self.intervals.add_rows(rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3], rows[:, 4])

    def _rewritten(self) -> None:
        """The day was recomputed: its interval sums are counted again from its rows
        (:attr:`~store.columns.DeviceColumns.last_rows`), and its span is listed to be published again."""
        rows = self._columns.last_rows
        self.intervals = self._empty_sums(self.intervals.interval_s)
        self.intervals.add_rows(rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3], rows[:, 4])
        if rows.shape[0]:  # every interval of the day may have changed
            self._columns.recomputed.append((self.meter_id, int(rows[0, 0]), int(rows[-1, 0])))

    def _changed_elsewhere(self) -> None:
        """Another process wrote the file: the battery's state after this meter's rows may be its now."""
        self._columns.forget(self.meter_id)
