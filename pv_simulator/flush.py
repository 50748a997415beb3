"""Flush policy of the PV simulator: when queued rows are written, fsynced, and their deliveries acked.

Every ``BATCH_ROWS`` rows (checked per delivery) or ``FLUSH_INTERVAL_S`` (checked per tick) the queued
rows are written, flushed and fsynced, and only then is everything delivered so far acknowledged with one
multiple-ack. With many day files dirty at once (many meters) the batch grows to ``ROWS_PER_FILE`` rows per
file and timed flushes are spaced so that fsyncs take at most about 1 / ``FLUSH_DUTY`` of the time. The same
per-tick watch notices idleness: a standby looks for runs another PV simulator recorded, and
``--idle-exit-s`` gives up when nothing arrives.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from pv_simulator.ledger import AckLedger
from pv_simulator.publishing import ResultsPublisher
from pv_simulator.results import IntervalTracker
from pv_simulator.runs import RunTracker
from pv_simulator.writer import CsvStore
from store.format import OutputError

log = logging.getLogger(__name__)

PREFETCH = 16_000
"""Unacknowledged deliveries the broker may send ahead (several batches: a batch that closed intervals
stays unacked until their results are confirmed while the next ones fill)."""
BATCH_ROWS = 2000
"""Rows queued before a write + fsync + ack (at least; see ``ROWS_PER_FILE``)."""
ROWS_PER_FILE = 8
"""With many dirty day files, rows queued per file before a flush (up to ``PREFETCH // 2`` rows in all)."""
NEW_FILES_PER_FLUSH = 200
"""New day files waiting to be created that start a flush: a run's first readings of 1,000 meters make 1,000
new folders and files, whose creation and first sync held the I/O loop for about 1 s in one flush; now they are
spread over five."""
FLUSH_INTERVAL_S = 0.1
"""Time between the periodic ticks, and the shortest time between two flushes [s]."""
FLUSH_DUTY = 4.0
"""A timed flush waits at least this many times as long as the last flush took (fsyncs <= ~1/4 of the time)."""
STANDBY_SCAN_S = 2.0
"""Without deliveries for this long, look this often for run records another PV simulator wrote [s]."""


class Clock(Protocol):
    def monotonic(self) -> float: ...


class FlushPolicy:
    """Writes queued rows and run records when a batch is full or a tick comes, then lets results out and acks.

    ``fail(1)`` stops the service when writing fails; ``take_over()`` re-reads what another PV simulator
    wrote (False if that failed); ``on_written()`` runs after each complete flush (runs complete on disk
    start closing); ``after_turn()`` acks what may be acked and checks whether the service is done.
    """

    def __init__(self, store: CsvStore, runs: RunTracker, results: IntervalTracker, ledger: AckLedger,
                 publisher: ResultsPublisher, clock: Clock, *, fail: Callable[[int], None],
                 take_over: Callable[[], bool], on_written: Callable[[], None], after_turn: Callable[[], None],
                 idle_exit_s: float = 0.0) -> None:
        self.store = store
        self.runs = runs
        self.results = results
        self.ledger = ledger
        self.publisher = publisher
        self.clock = clock
        self.fail = fail
        self.take_over = take_over
        self.on_written = on_written
        self.after_turn = after_turn
        self.idle_exit_s = idle_exit_s
        """Give up after this long without a delivery while runs are expected [s]; 0: never."""
        self.queued = 0
        """Rows queued since the last write (the service counts them as it adds them)."""
        self.rows_written = 0
        self.last_delivery = clock.monotonic()
        """When the tick last saw a new delivery [monotonic s]."""
        self._tag_at_tick = 0
        self._last_scan = self.last_delivery
        self._flush_s = 0.0  # duration of the last flush
        self._flushed_at = 0.0  # monotonic time the last flush ended

    def batch_rows(self) -> int:
        """Rows to queue before a flush: more with many dirty day files, fewer than the prefetch leaves."""
        return min(PREFETCH // 2, max(BATCH_ROWS, ROWS_PER_FILE * self.store.dirty_files))

    def full(self) -> bool:
        """Whether the batch is full (asked per delivery: the cheap test first)."""
        return ((self.queued >= BATCH_ROWS and self.queued >= self.batch_rows())
                or self.store.new_dirty_files >= NEW_FILES_PER_FLUSH)

    def tick(self, now: float) -> None:
        """The periodic tick at ``now`` [monotonic s]: flush if work waits and the last flush is far enough
        back, else (idle) look for runs another PV simulator recorded."""
        if self.ledger.last != self._tag_at_tick:
            self._tag_at_tick, self.last_delivery = self.ledger.last, now
        work = self.ledger.unflushed or self.store.pending or self.results.pending or self.publisher.waiting
        if work and now - self._flushed_at >= max(FLUSH_INTERVAL_S, FLUSH_DUTY * self._flush_s):
            self.flush()
        elif not work:
            self._scan_when_idle(now)

    def _scan_when_idle(self, now: float) -> None:
        """Idle, maybe a standby: take in runs another PV simulator recorded, so a takeover can complete them."""
        if now - self.last_delivery > STANDBY_SCAN_S and now - self._last_scan > STANDBY_SCAN_S:
            self._last_scan = now
            if self.runs.unknown_records() and self.take_over():
                self.flush()

    def idle_too_long(self, now: float) -> bool:
        """``idle_exit_s`` set, nothing arrived for that long and runs are still expected."""
        return self.idle_exit_s > 0 and now - self.last_delivery > self.idle_exit_s and not self.runs.all_done

    def flush(self) -> None:
        """Write and fsync queued rows and run records, publish due results, ack what needs no confirm.

        Does nothing while the results of the last flush are still being published.
        """
        if self.publisher.publishing:
            return
        started = self.clock.monotonic()
        if not self.write() or self.store.pending:  # pending: a file locked by another process
            return
        self._flushed_at = self.clock.monotonic()
        self._flush_s = self._flushed_at - started
        self.ledger.flushed_all()
        self.on_written()
        self.publisher.take_due()  # now: the rows of these intervals are on disk
        self.publisher.publish()
        self.after_turn()

    def write(self) -> bool:
        """Write and fsync queued rows and run records; False (and the service stops) if that failed."""
        try:
            self.store.write()
            for meter_id, ms in self.store.take_foreign():  # rows another PV simulator wrote
                self.runs.written(meter_id, ms)
            for meter_id, first_s, last_s in self.store.take_recomputed():  # a battery's day after a late row
                for start_s in range(first_s - first_s % self.results.interval_s, last_s + 1, self.results.interval_s):
                    self.results.mark(meter_id, start_s)
            self.runs.save()
        except OutputError as error:
            log.error("%s; stopping without acknowledging unwritten readings (they stay in the queue)", error)
            self.fail(1)
            return False
        self.rows_written += self.queued
        self.queued = 0
        return True
