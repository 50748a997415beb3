"""Daily CSV files, one per meter and local day, written idempotently.

``<output_dir>/<meter_id>/<YYYY-MM-DD>.csv`` with the header :data:`store.format.HEADER`. Powers
are kept as integers of 0.1 W internally and printed in kW with 4 decimals, so
``net_power_kw`` is exactly ``meter_power_kw - pv_power_kw`` as printed.

Each file keeps an index of the instants it holds (loaded once from disk when the
file is first touched after a start), so a reading already on disk is never
written again. Rows are appended in arrival order: in timestamp order for a normal
run; a late or redelivered reading lands at the end of its day's file.

Several PV simulators may share an output directory (one active, one standby; a
paused one may wake up after the other took over). Each append and each sort holds
an exclusive ``fcntl`` lock on the file, and before appending a writer compares the
file with what it last saw: if another process appended, the new tail is read into
the index (its rows are *foreign*) and queued rows already there are dropped; if
another process replaced the file (a sort), the whole file is read again. The lock
is held for the append only (microseconds; the ``fsync`` or ``syncfs`` follows it) and never
waited for long: a process paused while holding it (SIGSTOP) must not stall the
other, whose rows then stay queued (unacknowledged) until the next try.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import io
import logging
import os
import time
import weakref
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from common.clock import LocalDay, day_bounds_s, local_date
from common.schema import DEFAULT_RESULTS_INTERVAL_S as DEFAULT_INTERVAL_S
from models.balance import DayTotals
from models.chain import ModelChain
from models.pv.profile import PvProfile
from pv_simulator.battery_state import BatteryStates
from pv_simulator.instants import HeldSeconds
from pv_simulator.results import IntervalSums, Sums
from store.durable import find_syncfs, fsync_directory
from store.format import (
    HEADER,
    SMALL_BATCH_ROWS,
    OutputError,
    format_day_rows,
    parse_row,
    timestamp_text,
    wall_clock_text,
)
from store.layout import day_path
from store.locking import LOCK_WAIT_S, SORT_LOCK_WAIT_S, FileBusy

log = logging.getLogger(__name__)

MAX_DAY_FILES = 4096
"""Day files whose index stays in memory (about 2.5 kB each with their totals and interval sums while readings
arrive in step, see :class:`~pv_simulator.instants.HeldSeconds`; 10.8 kB more for a day whose seconds came out
of step); the least recently used one that waits for nothing is dropped beyond this and reloaded from disk if
touched again. 1,000 meters x 1 day or 1 meter x a year fit."""
SYNCFS_MIN_FILES = 8
"""Dirty day files from which one flush makes them durable with one ``syncfs`` instead of an fsync each
(300 files of 8 rows: 1-4 ms instead of 15-90 ms of wall time, a tenth of the CPU, measured here)."""
FSYNC_THREADS = 16
"""Day files written and fsynced in parallel by one :meth:`CsvStore.write` (the filesystem
commits concurrent fsyncs together: 1,000 files took 115-175 ms instead of 340-415 ms here)."""

MAX_READ_SUMS = 4
"""Day files whose interval sums, read back for late rows, are kept while the file is unchanged (46 kB each at 60 s)."""
_syncfs = find_syncfs()


class DayFile:
    """The CSV of one meter and one local day, with the index of instants it holds."""

    def __init__(self, path: Path, meter_id: str, day: LocalDay, chain: ModelChain,
                 results_interval_s: int = DEFAULT_INTERVAL_S, battery: BatteryStates | None = None) -> None:
        self.path = path
        self._battery = battery  # with a battery its columns are dispatched when rows are written, in time order
        self._header = HEADER if battery is None else battery.header
        self._path_text = str(path)
        self._folder_ready = False  # the meter's folder is known to exist
        self.meter_id = meter_id
        self.day = day
        self._chain = chain  # the building's models: a row's PV power comes from it (a dormant file holds none)
        self._prefix = day.day.isoformat() + "T"
        self._seconds = HeldSeconds(day.start_s, day.end_s)  # the whole seconds held (compact while in step)
        self._subsecond: set[int] = set()  # epoch ms of instants that are not whole seconds
        self.rows = 0
        self.totals = DayTotals()
        """Running energy totals of every row in the file or queued for it (for the day's summary)."""
        self.intervals = IntervalSums(day.start_s, day.end_s, results_interval_s, battery=battery is not None)
        """Row counts and power sums per results interval of every row in the file or queued for it."""
        self._pending_values = array("q")  # instant [epoch ms], meter, PV [0.1 W] of each queued row, flat
        self._appended: np.ndarray | None = None  # with a battery: the rows appended (n, 5), for the interval sums
        self._size = 0  # bytes of the file as this process last saw or wrote it
        self._inode: int | None = None
        self.foreign: list[int] = []
        """Instants [epoch ms] another process appended since the last :meth:`take_foreign`."""
        self.in_order = True
        """Whether the rows are in timestamp order (a late or redelivered reading breaks it)."""
        self._last_ms = -1
        self._load()

    # -- index ------------------------------------------------------------------------------
    def _load(self) -> None:
        """Read the instants already on disk; drop a torn last line left by a crash."""
        if not self.path.exists():
            return
        try:
            # Unlocked: a row another process is appending right now is left for the next catch-up.
            with self.path.open("rb") as handle:
                self._read_from(handle, 0)  # type: ignore[arg-type]
        except OSError as error:
            raise OutputError(f"cannot read {self.path}: {error.strerror}") from error

    @contextmanager
    def _locked(self, mode: str, wait_s: float) -> Iterator[tuple[io.BufferedRandom, os.stat_result]]:
        """The file opened in binary ``mode`` under an exclusive lock, surely the one at :attr:`path`, and its stat.

        Raises :class:`FileBusy` if another process holds the lock for longer than ``wait_s``
        [s]. A process that got the lock after another replaced the file (a sort) opens it again.
        """
        deadline = time.monotonic() + wait_s
        while True:
            handle = open(self._path_text, mode)  # noqa: SIM115 - closed below or after the yield
            try:
                self._try_lock(handle.fileno(), deadline)
                stat = os.fstat(handle.fileno())
                if stat.st_ino == os.stat(self._path_text).st_ino:
                    break
            except FileNotFoundError:
                pass
            except BaseException:
                handle.close()
                raise
            handle.close()
        try:
            yield handle, stat  # type: ignore[misc]
        finally:
            handle.close()  # releases the lock if still held

    def _try_lock(self, descriptor: int, deadline: float) -> None:
        while True:
            try:
                fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if time.monotonic() >= deadline:
                raise FileBusy(f"{self.path} is locked by another process (paused?); its rows wait")
            time.sleep(0.005)

    def _read_from(self, handle: io.BufferedRandom, offset: int) -> None:
        """Index the rows from byte ``offset`` on (0: the whole file); drop a torn last line (a crashed writer).

        Call with the lock held. A row whose instant is queued here is dropped from the
        queue (it is on disk now); a row new to the index is counted and listed in
        :attr:`foreign` unless this is the first load.
        """
        lines, size = self._read_lines(handle, offset, truncate=handle.writable())  # writable: locked
        first_load = self._inode is None and offset == 0 and not self._pending_values
        queued = set(self._pending_values[0::3])
        on_disk: set[int] = set()
        counted = array("q")
        battery = array("q")  # with a battery: its power [0.1 W] and state of charge [0.1 Wh] of each counted row
        for number, line in enumerate(lines, start=2):
            row = parse_row(line)
            if row is None or not self.day.contains(row[0] / 1000):
                raise OutputError(f"{self.path}, line {number}: not a row of {self.day.day}; "
                                  "fix or move the file away")
            ms = row[0]
            if ms in queued:  # in the totals already; in the interval sums once on disk, i.e. now
                on_disk.add(ms)
            elif self._mark(ms):
                self.totals.add(*row[1:])
                if not first_load:
                    self.foreign.append(ms)
            else:
                continue
            counted.extend((ms, row[2], row[3]))
            if self._battery is not None:
                battery.extend(round(float(text) * 10_000) for text in line.rsplit(",", 2)[1:])
        self._count_intervals(counted, battery)
        self.intervals.trim()  # none of these intervals is due now; a late row reads its interval from the file
        if on_disk:
            self._drop_queued(on_disk)
        self.rows = (self.rows if offset else 0) + len(lines)
        self._size = offset + size
        self._inode = os.fstat(handle.fileno()).st_ino

    def _read_lines(self, handle: io.BufferedRandom, offset: int, truncate: bool) -> tuple[list[str], int]:
        """The rows from byte ``offset`` on, without the header, and the bytes they take.

        An incomplete last line is left out; with ``truncate`` (the lock held, so no
        writer is in the middle of it) it is cut off: a crashed writer left it.
        """
        handle.seek(offset)
        data = handle.read()
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            if truncate:
                log.warning("%s: dropping an incomplete last line (%d bytes) left by an interrupted write",
                            self.path, len(data) - keep)
                handle.truncate(offset + keep)
            data = data[:keep]
        try:
            lines = data.decode().splitlines()
        except UnicodeDecodeError as error:
            raise OutputError(f"{self.path} is not UTF-8 text ({error.reason}); move it away") from None
        if offset == 0 and lines:
            if lines[0] + "\n" != self._header:
                raise OutputError(f"{self.path} exists but is not a pvsim CSV (unexpected header); move it away")
            lines = lines[1:]
        return lines, len(data)

    def _drop_queued(self, on_disk: set[int]) -> None:
        """Forget queued rows whose instants another process has written (their totals are counted already)."""
        self._pending_values = array("q", [v for values in self._queued_values() if values[0] not in on_disk
                                           for v in values])
        log.info("%s: %d queued rows were already written by another process; dropped", self.path, len(on_disk))

    def take_foreign(self) -> list[int]:
        """Instants [epoch ms] another process wrote to this file since the last call."""
        foreign, self.foreign = self.foreign, []
        return foreign

    def _mark(self, ms: int) -> bool:
        """Record an instant [epoch ms]; False if it was already held."""
        second, rest = divmod(ms, 1000)
        if rest:
            if ms in self._subsecond:
                return False
            self._subsecond.add(ms)
        elif not self._seconds.add(second):
            return False
        if ms < self._last_ms:
            self.in_order = False
        self._last_ms = max(self._last_ms, ms)
        return True

    def count_aligned(self, first_s: int, last_s: int, interval_s: int) -> int:
        """How many of the instants first_s, first_s + interval_s, ... <= last_s [epoch s] are held."""
        return self._seconds.count_on_grid(first_s, last_s, interval_s)

    def count_aligned_ms(self, first_ms: int, last_ms: int, interval_ms: int) -> int:
        """:meth:`count_aligned` for a grid in epoch ms that need not fall on whole seconds."""
        if first_ms % 1000 == 0 and interval_ms % 1000 == 0:
            return self.count_aligned(first_ms // 1000, last_ms // 1000, interval_ms // 1000)
        return sum(1 for ms in self._subsecond if first_ms <= ms <= last_ms and (ms - first_ms) % interval_ms == 0)

    def held_before(self, epoch_s: int) -> int | None:
        """The latest whole second [epoch s] held before ``epoch_s`` in this file, or None."""
        return self._seconds.latest_before(epoch_s)

    def read_interval_sums(self) -> IntervalSums:
        """The sums of every interval, counted from the rows this process knows to be in the file.

        For a row in an interval :attr:`intervals` no longer holds (a late row, rare):
        costs a read of the file (about 0.1 s for a day at 1 s). Raises :class:`OutputError`.
        """
        sums = IntervalSums(self.day.start_s, self.day.end_s, self.intervals.interval_s, recent=None,
                            battery=self._battery is not None)
        try:
            with open(self.path, "rb") as handle:
                data = handle.read(self._size)  # unlocked: rows appended after this size are not yet known
        except FileNotFoundError:
            return sums
        except OSError as error:
            raise OutputError(f"cannot read {self.path}: {error.strerror}") from error
        lines = data[:data.rfind(b"\n") + 1].decode().splitlines()[1:]
        rows = [row for line in lines if (row := parse_row(line)) is not None]
        if rows:
            values = np.array([(ms, meter_dw, pv_dw) for ms, _, meter_dw, pv_dw in rows], dtype=np.int64)
            if self._battery is None:
                sums.add_rows(values[:, 0] // 1000, values[:, 1], values[:, 2])
            else:  # the file is in time order
                extra = np.rint(np.array([line.rsplit(",", 2)[1:] for line in lines], dtype=np.float64) * 10_000)
                sums.add_rows(values[:, 0] // 1000, values[:, 1], values[:, 2],
                              extra[:, 0].astype(np.int64), extra[:, 1].astype(np.int64))
        return sums

    # -- rows -------------------------------------------------------------------------------
    def add(self, ms: int, power_w: float) -> bool:
        """Queue the row of a reading at ``ms`` [epoch ms] with meter power [W]; False if a duplicate."""
        if not self._mark(ms):
            return False
        meter_dw, pv_dw = self._chain.reading(self.day, ms // 1000, power_w)
        self._pending_values.extend((ms, meter_dw, pv_dw))  # the row's text is made when written (vectorised)
        # Interval sums: once written. The timestamp text is made only for a new peak.
        self.totals.add(partial(self._timestamp, ms), meter_dw, pv_dw)
        return True

    def _timestamp(self, ms: int) -> str:
        """The row's timestamp text of an instant [epoch ms]: local time with its UTC offset."""
        return timestamp_text(self.day, ms, self._prefix)

    def _queued_rows(self) -> bytes:
        """The CSV rows of the queued readings, in queue order (vectorised for many whole-second rows)."""
        return format_day_rows(self.meter_id, self.day, self._queued_array(), self._prefix)

    def _queued_array(self) -> np.ndarray:
        """The queued rows (n, 3): instant [epoch ms], meter and PV power [0.1 W]."""
        return np.frombuffer(self._pending_values, dtype=np.int64).reshape(-1, 3)

    @property
    def is_new(self) -> bool:
        """Whether this process has not seen the file on disk (its first write creates it)."""
        return self._size == 0 and self._inode is None

    @property
    def has_pending(self) -> bool:
        """Whether rows wait to be written."""
        return bool(self._pending_values)

    def write(self) -> None:
        """Append queued rows, flush and fsync. Raises :class:`OutputError` naming the path."""
        if self.append(sync=True):
            self.synced()

    def append(self, sync: bool) -> bool:
        """Append queued rows under the file's lock; with ``sync`` fsync them (and a new entry's directory).

        Returns whether rows were appended. Without ``sync`` the caller makes them durable
        (:meth:`CsvStore.write`: one ``syncfs`` for all files) and then calls :meth:`synced`;
        until then they stay queued. Plain ``os`` calls on a descriptor (no text-mode file
        object): with 1,000 files per flush every call per file counts. Raises
        :class:`FileBusy` (another process holds the lock) or :class:`OutputError`.
        """
        if not self._pending_values:
            return False
        try:
            if not self._folder_ready:
                new_folder = not self.path.parent.exists()
                self.path.parent.mkdir(parents=True, exist_ok=True)
                if new_folder and sync:
                    fsync_directory(self.path.parent.parent)
                self._folder_ready = True
            with self._locked("ab+", LOCK_WAIT_S) as (handle, stat):
                self._catch_up(handle, stat)
                if not self._pending_values:  # another process wrote them all
                    return False
                created = self._size == 0
                rows = self._queued_rows() if self._battery is None else self._battery_rows(handle)
                if rows is None:  # with a battery, a row before the meter's last one: the day(s) were rewritten
                    return True
                handle.write((self._header.encode() if created else b"") + rows)
                self.in_order = self.in_order or self._battery is not None  # dispatched in time order
                handle.flush()
                self._size = handle.tell()
                if sync:
                    fcntl.lockf(handle.fileno(), fcntl.LOCK_UN)  # others may append while this one syncs
                    os.fsync(handle.fileno())
            if created and sync:
                fsync_directory(self.path.parent)
        except FileBusy:
            raise
        except OSError as error:
            raise OutputError(f"cannot write {self.path}: {error.strerror or error}") from error
        return True

    def _battery_rows(self, handle: io.BufferedRandom) -> bytes | None:
        """With the lock held: the queued rows with the battery's columns, dispatched in time order; None if one
        is earlier than the meter's last row, after rewriting the day (and the later ones) with them."""
        assert self._battery is not None
        appended = self._battery.append_rows(self.meter_id, self.day, self._queued_array())
        if appended is None:
            self._rewrite_late(handle)
            return None
        rows, self._appended = appended
        return rows

    def _rewrite_late(self, handle: io.BufferedRandom) -> None:
        """With the lock held: the day's rows on disk and the queued ones, recomputed in time order, replace the
        file; then every later day of the meter on disk (see :mod:`pv_simulator.battery_state`)."""
        assert self._battery is not None
        handle.seek(0)
        self._replace_locked(self._battery.day_content(self.meter_id, self.day, handle.read(), self._queued_array()))
        self.rows -= len(self._pending_values) // 3  # counted by synced()
        self.in_order = True
        self._recount_battery()
        self._appended = self._battery.last_rows[:0]  # counted already: synced() counts nothing more
        self._battery.rewrite_later(self.meter_id, self.day.day)

    def _recount_battery(self) -> None:
        """The day was recomputed: its interval sums are counted again from its rows
        (:attr:`BatteryStates.last_rows`)."""
        assert self._battery is not None
        rows = self._battery.last_rows
        self.intervals = IntervalSums(self.day.start_s, self.day.end_s, self.intervals.interval_s, battery=True)
        self.intervals.add_rows(rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3], rows[:, 4])
        if rows.shape[0]:  # every interval of the day may have changed: published again
            self._battery.recomputed.append((self.meter_id, int(rows[0, 0]), int(rows[-1, 0])))

    def rewrite(self, content: Callable[[bytes], bytes | None]) -> bool:
        """Replace the file, under its lock and atomically, with ``content(its bytes)`` (None: keep it);
        returns whether it was replaced. Raises :class:`OutputError` naming the path."""
        try:
            with self._locked("rb+", SORT_LOCK_WAIT_S) as (locked, stat):
                self._catch_up(locked, stat)
                locked.seek(0)
                new = content(locked.read())
                if new is None:
                    return False
                self._replace_locked(new)
        except OSError as error:
            raise OutputError(f"cannot rewrite {self.path}: {error.strerror or error}") from error
        self.in_order = True
        if self._battery is not None:
            self._recount_battery()
        return True

    def _replace_locked(self, content: bytes) -> None:
        """With the lock held: write ``content`` (header and rows) to a new file, fsync it and put it in place
        (waiters then reopen); the index keeps its instants (the same ones, or the queued ones too)."""
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        with temporary.open("wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
            stat = os.fstat(handle.fileno())
        os.replace(temporary, self.path)  # while holding the old file's lock: waiters then reopen
        fsync_directory(self.path.parent)
        self._size, self._inode = stat.st_size, stat.st_ino
        self.rows = content.count(b"\n") - 1

    def synced(self) -> None:
        """The rows :meth:`append` wrote are durable: count them (rows, interval sums) and unqueue them."""
        self.rows += len(self._pending_values) // 3
        if self._appended is None:
            self._count_intervals(self._pending_values)
        else:
            rows, self._appended = self._appended, None
            self.intervals.add_rows(rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3], rows[:, 4])
        self._pending_values = array("q")

    def _queued_values(self) -> Iterator[tuple[int, int, int]]:
        values = self._pending_values
        return zip(values[0::3], values[1::3], values[2::3], strict=True)

    def _count_intervals(self, values: array[int], battery: array[int] | None = None) -> None:
        """Add rows on disk, given flat as instant [epoch ms], meter, PV [0.1 W] each, to :attr:`intervals`;
        with a battery, ``battery`` gives its power [0.1 W] and state of charge [0.1 Wh] of each, flat."""
        if self._battery is not None:
            if values:
                rows = np.frombuffer(values, dtype=np.int64).reshape(-1, 3)
                extra = np.frombuffer(battery or array("q", [0, 0] * (len(values) // 3)), dtype=np.int64).reshape(-1, 2)
                order = np.argsort(rows[:, 0], kind="stable")
                self.intervals.add_rows(rows[order, 0] // 1000, rows[order, 1], rows[order, 2],
                                        extra[order, 0], extra[order, 1])
            return
        if 0 < len(values) < 3 * SMALL_BATCH_ROWS:  # np.add.at costs more than a few rows one by one
            for ms, meter_dw, pv_dw in zip(values[0::3], values[1::3], values[2::3], strict=True):
                self.intervals.add(ms // 1000, meter_dw, pv_dw)
        elif values:
            rows = np.frombuffer(values, dtype=np.int64).reshape(-1, 3)
            self.intervals.add_rows(rows[:, 0] // 1000, rows[:, 1], rows[:, 2])

    def _catch_up(self, handle: io.BufferedRandom, stat: os.stat_result) -> None:
        """With the lock held: take in what another process wrote since this one last looked.

        ``stat``: the locked file's ``fstat``.
        """
        if stat.st_size == self._size and (stat.st_ino == self._inode or self._inode is None):
            self._inode = stat.st_ino
            return
        if self._battery is not None:  # its state after this meter's rows may be another process's now
            self._battery.forget(self.meter_id)
        if (self._inode is not None and stat.st_ino != self._inode) or stat.st_size < self._size:
            log.info("%s was replaced by another process; reading it again", self.path)
            self._reload_all(handle)
        else:
            log.info("%s: another process appended %d bytes; reading them", self.path, stat.st_size - self._size)
            self._read_from(handle, self._size)

    def _reload_all(self, handle: io.BufferedRandom) -> None:
        """Rebuild index and totals from the whole file plus the queued rows (the file was replaced)."""
        pending = list(self._queued_values())
        held = self._seconds, self._subsecond  # replaced below, not changed
        self._seconds = HeldSeconds(self.day.start_s, self.day.end_s)
        self._subsecond = set()
        self.totals = DayTotals()
        self.intervals = IntervalSums(self.day.start_s, self.day.end_s, self.intervals.interval_s,
                                      battery=self._battery is not None)
        self._last_ms = -1
        self.in_order = True
        self._pending_values = array("q")
        self.rows = 0
        self._inode = None  # a first load: lists nothing as foreign
        self._read_from(handle, 0)
        # Instants new to this process are foreign; the first load of _read_from did not list them.
        self.foreign.extend(ms for ms in self._instants() if not _held_in(held, ms))
        for values in pending:  # still to write: counted in the totals, in the interval sums once written
            if self._mark(values[0]):
                self.totals.add(self._timestamp(values[0]), values[1], values[2])
                self._pending_values.extend(values)

    def _instants(self) -> Iterator[int]:
        for second in self._seconds.seconds().tolist():
            yield second * 1000
        yield from self._subsecond


    def sort(self) -> None:
        """Rewrite the file in timestamp order, atomically, if rows arrived out of order.

        Called once a run is complete; the rows stay the same. Raises
        :class:`OutputError` naming the path.
        """
        if self.in_order:
            return
        self.write()
        try:
            with self._locked("rb+", SORT_LOCK_WAIT_S) as (locked, stat):
                self._catch_up(locked, stat)
                locked.seek(0)
                text = locked.read().decode()
                parsed = sorted((parse_row(line), line) for line in text.splitlines(keepends=True)[1:])
                self._replace_locked((self._header + "".join(line for _, line in parsed)).encode())
        except OSError as error:
            raise OutputError(f"cannot sort {self.path}: {error.strerror or error}") from error
        self.totals = DayTotals()  # peaks name the first row at the peak in the new order
        for row, _ in parsed:
            assert row is not None  # every row on disk was parsed when the file was loaded or written
            self.totals.add(*row[1:])
        self.in_order = True
        log.info("%s: rows put back in timestamp order", self.path)


def _held_in(held: tuple[HeldSeconds, set[int]], ms: int) -> bool:
    """Whether an instant [epoch ms] is in a day file's index as :meth:`DayFile._reload_all` kept it."""
    second, rest = divmod(ms, 1000)
    return ms in held[1] if rest else second in held[0]


def _write_or_busy(day_file: DayFile) -> FileBusy | None:
    """:meth:`DayFile.write`; a :class:`FileBusy` is returned (the rows stay queued), other errors raise."""
    try:
        day_file.write()
    except FileBusy as busy:
        return busy
    return None


class CsvStore:
    """All day files under ``output_dir``; finds the file of each reading and keeps the index of recent ones.

    Up to :data:`MAX_DAY_FILES` day files stay in memory with their compact index and
    totals, so a long run or many meters never re-read a file they wrote. ``building``: the
    :class:`~models.chain.ModelChain` that gives each row's PV power, or just its PV model.
    """

    def __init__(self, output_dir: Path, tz: ZoneInfo, building: ModelChain | PvProfile,
                 results_interval_s: int = DEFAULT_INTERVAL_S, battery: BatteryStates | None = None) -> None:
        self.output_dir = output_dir
        self.battery = battery
        """Every meter's battery (None: no battery); its rows are written in time order."""
        if battery is not None:
            battery.bind(self.path_of, self.existing)
        self.tz = tz
        self.results_interval_s = results_interval_s
        self.chain = building if isinstance(building, ModelChain) else ModelChain(building)
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
        wall_clock_text()  # built now (80 ms), not inside the first delivery's callback

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
            found = DayFile(self.path_of(meter_id, day), meter_id, self.local_day(day), self.chain,
                            self.results_interval_s, self.battery)
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

    def add(self, meter_id: str, ms: int, power_w: float) -> DayFile | None:
        """Queue a reading [epoch ms, W]; returns its file, or None if it is already held."""
        day_file = self.day_file(meter_id, ms / 1000)
        if not day_file.add(ms, power_w):
            return None
        key = id(day_file)
        if key not in self._dirty:
            self._dirty[key] = day_file
            if day_file.is_new:
                self.new_dirty_files += 1
        return day_file

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
