"""The day file: the CSV of one meter and one local day, written idempotently, and its index.

``<output_dir>/<meter_id>/<YYYY-MM-DD>.csv`` (:mod:`store.layout`) with the header
:data:`store.format.HEADER`. It stores the rows it is given; it computes no physics (the PV simulator
hands it each row's meter and PV power, :mod:`pv_simulator.writer`). Powers
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

import fcntl
import io
import logging
import os
from array import array
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path

import numpy as np

from common.clock import LocalDay
from common.schema import DEFAULT_RESULTS_INTERVAL_S as DEFAULT_INTERVAL_S
from models.balance import DayTotals
from store.durable import fsync_directory
from store.format import HEADER, OutputError, format_day_rows, parse_row, timestamp_text
from store.instants import HeldInstants
from store.intervals import IntervalSums, count_rows, read_interval_sums
from store.locking import LOCK_WAIT_S, SORT_LOCK_WAIT_S, FileBusy, open_locked
from store.reader import read_tail

log = logging.getLogger(__name__)


class DayFile:
    """The CSV of one meter and one local day, with the index of instants it holds."""

    def __init__(self, path: Path, meter_id: str, day: LocalDay, results_interval_s: int = DEFAULT_INTERVAL_S,
                 header: str = HEADER) -> None:
        self.path = path
        self._header = header
        self._path_text = str(path)
        self._folder_ready = False  # the meter's folder is known to exist
        self.meter_id = meter_id
        self.day = day
        self._prefix = day.day.isoformat() + "T"
        self._held = HeldInstants(day.start_s, day.end_s)  # the index (compact while readings arrive in step)
        self.rows = 0
        self.totals = DayTotals()
        """Running energy totals of every row in the file or queued for it (for the day's summary)."""
        self.intervals = self._empty_sums(results_interval_s)
        """Row counts and power sums per results interval of every row in the file or queued for it."""
        self._pending_values = array("q")  # instant [epoch ms], meter, PV [0.1 W] of each queued row, flat
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

    def _read_from(self, handle: io.BufferedRandom, offset: int) -> None:
        """Index the rows from byte ``offset`` on (0: the whole file); drop a torn last line (a crashed writer).

        Call with the lock held. A row whose instant is queued here is dropped from the
        queue (it is on disk now); a row new to the index is counted and listed in
        :attr:`foreign` unless this is the first load.
        """
        lines, size = read_tail(handle, offset, self._header, self._path_text, truncate=handle.writable())
        first_load = self._inode is None and offset == 0 and not self._pending_values
        queued = set(self._pending_values[0::3])
        on_disk: set[int] = set()
        counted = array("q")
        extra = array("q")  # the integers of each counted row's extra columns (:meth:`_extra_values`), flat
        extra_values = self._extra_values
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
            extra.extend(extra_values(line))
        count_rows(self.intervals, counted, extra)
        self.intervals.trim()  # none of these intervals is due now; a late row reads its interval from the file
        if on_disk:
            self._drop_queued(on_disk)
        self.rows = (self.rows if offset else 0) + len(lines)
        self._size = offset + size
        self._inode = os.fstat(handle.fileno()).st_ino

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
        if not self._held.add(ms):
            return False
        if ms < self._last_ms:
            self.in_order = False
        self._last_ms = max(self._last_ms, ms)
        return True

    def count_aligned(self, first_s: int, last_s: int, interval_s: int) -> int:
        """How many of the instants first_s, first_s + interval_s, ... <= last_s [epoch s] are held."""
        return self._held.whole.count_on_grid(first_s, last_s, interval_s)

    def count_aligned_ms(self, first_ms: int, last_ms: int, interval_ms: int) -> int:
        """:meth:`count_aligned` for a grid in epoch ms that need not fall on whole seconds."""
        return self._held.count_on_grid_ms(first_ms, last_ms, interval_ms)

    def held_before(self, epoch_s: int) -> int | None:
        """The latest whole second [epoch s] held before ``epoch_s`` in this file, or None."""
        return self._held.whole.latest_before(epoch_s)

    def read_interval_sums(self) -> IntervalSums:
        """The sums of every interval, counted from the rows this process knows to be in the file
        (:func:`store.intervals.read_interval_sums`, for a late row). Raises :class:`OutputError`."""
        return read_interval_sums(self.path, self._size, self.day, self.intervals.interval_s,
                                  self.intervals.battery)

    # -- rows -------------------------------------------------------------------------------
    def add(self, ms: int, meter_dw: int, pv_dw: int) -> bool:
        """Queue a row at ``ms`` [epoch ms] with meter and PV power [0.1 W]; False if a duplicate."""
        if not self._mark(ms):
            return False
        self.queue(ms, meter_dw, pv_dw)
        return True

    def claim(self, ms: int) -> bool:
        """Enter an instant [epoch ms] in the index before its row is known; False if it is held already. The
        caller then gives its row to :meth:`queue` (the PV simulator computes the row of new instants only)."""
        return self._mark(ms)

    def queue(self, ms: int, meter_dw: int, pv_dw: int) -> None:
        """Queue the row of an instant [epoch ms] :meth:`claim` entered, with meter and PV power [0.1 W]."""
        self._pending_values.extend((ms, meter_dw, pv_dw))  # the row's text is made when written (vectorised)
        # Interval sums: once written. The timestamp text is made only for a new peak.
        self.totals.add(partial(self._timestamp, ms), meter_dw, pv_dw)

    def _timestamp(self, ms: int) -> str:
        """The row's timestamp text of an instant [epoch ms]: local time with its UTC offset."""
        return timestamp_text(self.day, ms, self._prefix)

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
        (:meth:`store.daystore.DayStore.write`: one ``syncfs`` for all files) and then calls :meth:`synced`;
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
            with open_locked(self._path_text, "ab+", LOCK_WAIT_S) as (handle, stat):
                self._catch_up(handle, stat)
                if not self._pending_values:  # another process wrote them all
                    return False
                created = self._size == 0
                rows = self._rows_to_append(handle)
                if rows is None:  # the file was rewritten with them instead (a battery's late row)
                    return True
                handle.write((self._header.encode() if created else b"") + rows)
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

    def rewrite(self, content: Callable[[bytes], bytes | None]) -> bool:
        """Replace the file, under its lock and atomically, with ``content(its bytes)`` (None: keep it);
        returns whether it was replaced. Raises :class:`OutputError` naming the path."""
        try:
            with open_locked(self._path_text, "rb+", SORT_LOCK_WAIT_S) as (locked, stat):
                self._catch_up(locked, stat)
                locked.seek(0)
                new = content(locked.read())
                if new is None:
                    return False
                self._replace_locked(new)
        except OSError as error:
            raise OutputError(f"cannot rewrite {self.path}: {error.strerror or error}") from error
        self.in_order = True
        self._rewritten()
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
        self._count_synced()
        self._pending_values = array("q")

    def _queued_values(self) -> Iterator[tuple[int, int, int]]:
        values = self._pending_values
        return zip(values[0::3], values[1::3], values[2::3], strict=True)

    def _catch_up(self, handle: io.BufferedRandom, stat: os.stat_result) -> None:
        """With the lock held: take in what another process wrote since this one last looked.

        ``stat``: the locked file's ``fstat``.
        """
        if stat.st_size == self._size and (stat.st_ino == self._inode or self._inode is None):
            self._inode = stat.st_ino
            return
        self._changed_elsewhere()
        if (self._inode is not None and stat.st_ino != self._inode) or stat.st_size < self._size:
            log.info("%s was replaced by another process; reading it again", self.path)
            self._reload_all(handle)
        else:
            log.info("%s: another process appended %d bytes; reading them", self.path, stat.st_size - self._size)
            self._read_from(handle, self._size)

    def _reload_all(self, handle: io.BufferedRandom) -> None:
        """Rebuild index and totals from the whole file plus the queued rows (the file was replaced)."""
        pending = list(self._queued_values())
        held = self._held  # replaced below, not changed
        self._held = HeldInstants(self.day.start_s, self.day.end_s)
        self.totals = DayTotals()
        self.intervals = self._empty_sums(self.intervals.interval_s)
        self._last_ms = -1
        self.in_order = True
        self._pending_values = array("q")
        self.rows = 0
        self._inode = None  # a first load: lists nothing as foreign
        self._read_from(handle, 0)
        # Instants new to this process are foreign; the first load of _read_from did not list them.
        self.foreign.extend(ms for ms in self._held if ms not in held)
        for values in pending:  # still to write: counted in the totals, in the interval sums once written
            if self._mark(values[0]):
                self.totals.add(self._timestamp(values[0]), values[1], values[2])
                self._pending_values.extend(values)

    def _instants(self) -> Iterator[int]:
        """Every instant [epoch ms] in the index."""
        return iter(self._held)

    def sort(self) -> None:
        """Rewrite the file in timestamp order, atomically, if rows arrived out of order.

        Called once a run is complete; the rows stay the same. Raises
        :class:`OutputError` naming the path.
        """
        if self.in_order:
            return
        self.write()
        try:
            with open_locked(self._path_text, "rb+", SORT_LOCK_WAIT_S) as (locked, stat):
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

    # -- hooks: what a day file with more columns than meter and PV power does differently
    # (store.battery_dayfile.BatteryDayFile: a battery's, dispatched in time order)
    def _empty_sums(self, interval_s: int) -> IntervalSums:
        """Interval sums of this day with nothing counted, ``interval_s`` [s] long each."""
        return IntervalSums(self.day.start_s, self.day.end_s, interval_s)

    def _extra_values(self, line: str) -> Iterable[int]:
        """The integers that :func:`store.intervals.count_rows` counts of a row's columns after meter and PV
        power, read from its ``line`` (none here)."""
        return ()

    def _rows_to_append(self, handle: io.BufferedRandom) -> bytes | None:
        """With the lock held (``handle``: the file, open to append): the bytes of the queued rows to append, here
        in queue order (vectorised for many whole-second rows); None if the file was rewritten with them instead
        (:meth:`synced` then unqueues them all the same)."""
        return format_day_rows(self.meter_id, self.day, self._queued_array(), self._prefix)

    def _count_synced(self) -> None:
        """Add the rows :meth:`append` wrote (still queued) to the interval sums."""
        count_rows(self.intervals, self._pending_values)

    def _rewritten(self) -> None:
        """:meth:`rewrite` replaced the file: the same instants, but the other columns may have changed."""

    def _changed_elsewhere(self) -> None:
        """With the lock held: another process wrote the file since this one last looked (before it is read)."""
