"""All day files of an output directory: which file a row goes to, the index of recent files in memory, and
writing every file with queued rows durably (``fsync`` by a thread pool, or one ``syncfs`` for many files).

It stores rows; it computes no physics: the PV simulator's :class:`~pv_simulator.writer.CsvStore` turns
readings into rows (:mod:`models.chain`) and hands them over.
"""

from __future__ import annotations

import ctypes
import logging
import os
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from common.clock import LocalDay, day_bounds_s, local_date
from common.schema import DEFAULT_RESULTS_INTERVAL_S as DEFAULT_INTERVAL_S
from store.battery_dayfile import BatteryDayFile
from store.columns import DeviceColumns
from store.dayfile import DayFile
from store.durable import find_syncfs
from store.format import OutputError, wall_clock_text
from store.intervals import IntervalSums, Sums
from store.layout import day_path
from store.locking import FileBusy

log = logging.getLogger(__name__)

MAX_DAY_FILES = 4096
"""Day files whose index stays in memory (about 2.5 kB each with their totals and interval sums while readings
arrive in step, see :class:`~store.instants.HeldSeconds`; 10.8 kB more for a day whose seconds came out
of step); the least recently used one that waits for nothing is dropped beyond this and reloaded from disk if
touched again. 1,000 meters x 1 day or 1 meter x a year fit."""
SYNCFS_MIN_FILES = 8
"""Dirty day files from which one flush makes them durable with one ``syncfs`` instead of an fsync each
(300 files of 8 rows: 1-4 ms instead of 15-90 ms of wall time, a tenth of the CPU, measured here)."""
FSYNC_THREADS = 16
"""Day files written and fsynced in parallel by one :meth:`DayStore.write` (the filesystem
commits concurrent fsyncs together: 1,000 files took 115-175 ms instead of 340-415 ms here)."""

MAX_READ_SUMS = 4
"""Day files whose interval sums, read back for late rows, are kept while the file is unchanged (46 kB each at 60 s)."""
_syncfs = find_syncfs()


def _write_or_busy(day_file: DayFile) -> FileBusy | None:
    """:meth:`DayFile.write`; a :class:`FileBusy` is returned (the rows stay queued), other errors raise."""
    try:
        day_file.write()
    except FileBusy as busy:
        return busy
    return None


class DayStore:
    """All day files under ``output_dir``; finds the file of each row and keeps the index of recent ones.

    Up to :data:`MAX_DAY_FILES` day files stay in memory with their compact index and
    totals, so a long run or many meters never re-read a file they wrote. It stores the rows it
    is given (:meth:`add_row`); the PV simulator's :class:`~pv_simulator.writer.CsvStore` computes them.
    """

    def __init__(self, output_dir: Path, tz: ZoneInfo, results_interval_s: int = DEFAULT_INTERVAL_S,
                 battery: DeviceColumns | None = None) -> None:
        self.output_dir = output_dir
        self.battery = battery
        """Every meter's battery columns (None: no battery); its rows are written in time order."""
        self.tz = tz
        self.results_interval_s = results_interval_s
        self._files: OrderedDict[tuple[str, date], DayFile] = OrderedDict()
        self._last: dict[str, DayFile] = {}  # meter id -> file of its last reading
        self._read_sums: OrderedDict[int, tuple[DayFile, int, IntervalSums]] = OrderedDict()  # id -> file, rows, sums
        self._dirty: dict[int, DayFile] = {}
        self.new_dirty_files = 0
        """Day files with queued rows that do not exist on disk yet (their first write creates them)."""
        self._busy_logged = -1e9
        self._local_days: dict[date, LocalDay] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._sync_descriptor: int | None = None  # the output directory, for syncfs
        wall_clock_text()  # built now, not inside the first delivery's callback

    def local_day(self, day: date) -> LocalDay:
        """The site's :class:`LocalDay` of ``day`` (one shared object per date)."""
        found = self._local_days.get(day)
        if found is None:
            found = self._local_days[day] = LocalDay(day, self.tz)
        return found

    def path_of(self, meter_id: str, day: date) -> Path:
        """Where the CSV of a meter and local day is (or will be)."""
        return day_path(self.output_dir, meter_id, day)

    def day_file(self, meter_id: str, epoch_s: float) -> DayFile:
        """The file holding a meter's reading at ``epoch_s`` (opened and indexed on first use)."""
        last = self._last.get(meter_id)
        if last is not None and last.day.contains(epoch_s):
            return last
        found = self._open(meter_id, local_date(epoch_s, self.tz))
        self._last[meter_id] = found
        return found

    def _open(self, meter_id: str, day: date) -> DayFile:
        key = (meter_id, day)
        found = self._files.get(key)
        if found is None:
            self._evict()
            path, local_day = self.path_of(meter_id, day), self.local_day(day)
            found = (DayFile(path, meter_id, local_day, self.results_interval_s) if self.battery is None
                     else BatteryDayFile(path, meter_id, local_day, self.results_interval_s, self.battery))
            self._files[key] = found
        else:
            self._files.move_to_end(key)
        return found

    def existing(self, meter_id: str, day: date) -> DayFile | None:
        """The day file of a meter and local date if it holds or waits for rows, else None (none is created).

        Reads the file from disk only if it is not in memory. Raises :class:`OutputError`.
        """
        found = self._files.get((meter_id, day))
        if found is None and self.path_of(meter_id, day).exists():
            found = self._open(meter_id, day)
        return found

    def _evict(self) -> None:
        if len(self._files) < MAX_DAY_FILES:
            return
        for key, candidate in self._files.items():
            if not candidate.has_pending:
                del self._files[key]
                if self._last.get(key[0]) is candidate:
                    del self._last[key[0]]
                return

    def add_row(self, meter_id: str, ms: int, meter_dw: int, pv_dw: int) -> DayFile | None:
        """Queue a row [epoch ms, 0.1 W, 0.1 W]; returns its file, or None if its instant is already held."""
        day_file = self.day_file(meter_id, ms / 1000)
        if not day_file.add(ms, meter_dw, pv_dw):
            return None
        self.queued(day_file)
        return day_file

    def queued(self, day_file: DayFile) -> None:
        """Rows were queued in ``day_file`` (:meth:`DayFile.queue`): the next :meth:`write` writes it."""
        key = id(day_file)
        if key not in self._dirty:
            self._dirty[key] = day_file
            if day_file.is_new:
                self.new_dirty_files += 1

    def dates_between(self, first_s: float, last_s: float) -> Iterable[tuple[date, int, int]]:
        """(local date, its start, its end [epoch s]) of every local day overlapping [first_s, last_s]."""
        day = local_date(first_s, self.tz)
        while True:
            start_s, end_s = day_bounds_s(day, self.tz)
            if start_s > last_s:
                return
            yield day, start_s, end_s
            day += timedelta(days=1)

    def days_of(self, meter_id: str, first_s: int, last_s: int) -> Iterable[DayFile]:
        """Every day file of a meter that overlaps [first_s, last_s] [epoch s] (created if missing)."""
        for day, _start, _end in self.dates_between(first_s, last_s):
            yield self._open(meter_id, day)

    def interval_sums(self, meter_id: str, start_s: int) -> Sums:
        """Rows of a meter in the results interval starting at ``start_s`` [epoch s], over every day it overlaps.

        An interval a day file no longer holds is counted from the file (:meth:`DayFile.read_interval_sums`;
        the last :data:`MAX_READ_SUMS` files read are kept while unchanged). Raises :class:`OutputError`.
        """
        day_file = self.day_file(meter_id, start_s)
        total = Sums()
        last_s = start_s + self.results_interval_s - 1
        while True:
            total += self._sums_of(day_file, start_s)
            if day_file.day.end_s > last_s:
                return total
            day_file = self.day_file(meter_id, day_file.day.end_s)  # the interval runs into the next local day

    def _sums_of(self, day_file: DayFile, start_s: int) -> Sums:
        held = day_file.intervals.get(start_s)
        if held is not None:
            return held
        cached = self._read_sums.pop(id(day_file), None)
        if cached is None or cached[0] is not day_file or cached[1] != day_file.rows:  # rows: grows with each write
            cached = day_file, day_file.rows, day_file.read_interval_sums()
        self._read_sums[id(day_file)] = cached
        if len(self._read_sums) > MAX_READ_SUMS:
            self._read_sums.popitem(last=False)
        found = cached[2].get(start_s)
        assert found is not None  # read_interval_sums holds every interval
        return found

    def trim_intervals(self) -> None:
        """Let every day file's interval sums go back to the recent intervals (once the results of a write
        that spanned many are published): a long run's finished days then hold 0.5 kB each, not 46 kB."""
        for day_file in self._files.values():
            if day_file.intervals.wide:
                day_file.intervals.trim()

    def held_before(self, meter_id: str, epoch_s: int) -> int | None:
        """The latest whole second [epoch s] of a meter held before ``epoch_s``, looking back one day file."""
        day_file = self.day_file(meter_id, epoch_s)
        found = day_file.held_before(epoch_s)
        if found is None:
            before = day_file.day.start_s - 1
            if self.path_of(meter_id, local_date(before, self.tz)).exists():
                found = self.day_file(meter_id, before).held_before(epoch_s)
        return found

    @property
    def pending(self) -> bool:
        """Whether some rows wait to be written."""
        return bool(self._dirty)

    @property
    def dirty_files(self) -> int:
        """How many day files have rows waiting to be written."""
        return len(self._dirty)

    def write(self) -> list[DayFile]:
        """Write every file with queued rows and make them durable; returns them. Raises :class:`OutputError`.

        With :data:`SYNCFS_MIN_FILES` files or more (many meters) the files are appended
        one after the other and made durable by one ``syncfs`` of the output directory's
        filesystem (Linux): at 1,000 files per flush, one fsync per file cost more CPU than
        everything else the writer does. With fewer, or without ``syncfs``, each file is
        fsynced, several by :data:`FSYNC_THREADS` threads at once (``fsync`` releases the
        GIL and the filesystem commits concurrent syncs together). A file whose lock
        another process holds keeps its rows queued (:attr:`pending` stays true) for the
        next call; this is logged at most every 10 s.
        """
        items = list(self._dirty.items())
        if self.battery is not None:  # a meter's days in order, one after the other: each starts where one ended
            items.sort(key=lambda item: (item[1].meter_id, item[1].day.day))
        if len(items) >= SYNCFS_MIN_FILES and _syncfs is not None:
            outcomes = self._append_and_syncfs([day_file for _, day_file in items])
        elif len(items) == 1 or self.battery is not None:
            outcomes = [_write_or_busy(day_file) for _, day_file in items]
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(FSYNC_THREADS, thread_name_prefix="fsync")
            outcomes = [future.result() for future in
                        [self._pool.submit(_write_or_busy, day_file) for _, day_file in items]]
        written = []
        for (key, day_file), busy in zip(items, outcomes, strict=True):
            if busy is not None:
                now = time.monotonic()
                if now - self._busy_logged > 10:
                    self._busy_logged = now
                    log.warning("%s", busy)
                continue
            written.append(day_file)
            del self._dirty[key]
        self.new_dirty_files = sum(1 for day_file in self._dirty.values() if day_file.is_new)  # busy ones
        return written

    def _append_and_syncfs(self, day_files: list[DayFile]) -> list[FileBusy | None]:
        """Append each file's rows, then one ``syncfs``; a busy file's rows stay queued. Raises :class:`OutputError`."""
        assert _syncfs is not None
        if self._sync_descriptor is None:
            # Opened before the first unsynced append and kept: syncfs reports writeback errors
            # of the filesystem since this descriptor was opened (Linux 5.8 and later).
            try:
                self.output_dir.mkdir(parents=True, exist_ok=True)
                self._sync_descriptor = os.open(self.output_dir, os.O_RDONLY)
            except OSError as error:
                raise OutputError(f"cannot write under {self.output_dir}: {error.strerror or error}") from error
            weakref.finalize(self, os.close, self._sync_descriptor)
        outcomes: list[FileBusy | None] = []
        appended = []
        for day_file in day_files:
            try:
                if day_file.append(sync=False):
                    appended.append(day_file)
                outcomes.append(None)
            except FileBusy as busy:
                outcomes.append(busy)
        if _syncfs(self._sync_descriptor) != 0:
            code = ctypes.get_errno()
            raise OutputError(f"cannot make the files under {self.output_dir} durable (syncfs): {os.strerror(code)}")
        for day_file in appended:
            day_file.synced()
        return outcomes

    def take_recomputed(self) -> list[tuple[str, int, int]]:
        """(meter id, first, last instant [epoch s]) of days recomputed since the last call (a battery's late rows)."""
        if self.battery is None or not self.battery.recomputed:
            return []
        spans, self.battery.recomputed = self.battery.recomputed, []
        return spans

    def take_foreign(self) -> list[tuple[str, int]]:
        """(meter id, instant [epoch ms]) of rows other processes wrote to open files, found since the last call."""
        return [(f.meter_id, ms) for f in self._files.values() if f.foreign for ms in f.take_foreign()]

    def forget(self) -> None:
        """Close every day file without queued rows: the next use reads it from disk again.

        For a PV simulator taking over from another one: what it cached may be stale. (A
        file with queued rows, whose lock another process holds, stays; its next write
        catches up with the disk anyway.)
        """
        for key, day_file in list(self._files.items()):
            if not day_file.has_pending:
                del self._files[key]
        self._last.clear()
        if self.battery is not None:
            self.battery.forget()
