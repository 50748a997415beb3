"""Run closing of the PV simulator: complete runs' day files sorted and summarised, and the end of the work.

A run is complete once every reading its meters announced is on disk (:class:`~pv_simulator.runs.RunTracker`
counts them). Its day files are then put in timestamp order and summarised (``<date>.summary.json``), a day
per step, at most a budget of time per tick, never inside a message callback, so the I/O loop (and its
heartbeats) keeps turning. Then its last interval results and run-complete notices are published
(:class:`~pv_simulator.publishing.ResultsPublisher`). With ``--exit-when-done`` the service finishes once every
announced run is complete (or failed) and nothing waits to be written, published or confirmed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pika

from common import topology
from pv_simulator.flush import Clock
from pv_simulator.ledger import AckLedger
from pv_simulator.publishing import Link, ResultsPublisher
from pv_simulator.results import IntervalTracker
from pv_simulator.runs import Run, RunTracker
from pv_simulator.summary import write_summary_json
from pv_simulator.writer import CsvStore
from store.dayfile import DayFile
from store.format import OutputError

log = logging.getLogger(__name__)


def _percent_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} %"


class RunCloser:
    """Counts finished runs, closes complete ones a day at a time, and finishes the service when all are done.

    ``write()`` writes what is queued (False if that failed and the service stops), ``finish(code)`` ends the
    service, ``summary()`` is its counters' text for the last log line. ``dc_capacity_kw`` is the PV's DC
    capacity [kWp] for the summaries' specific yield (None: unknown).
    """

    def __init__(self, store: CsvStore, runs: RunTracker, results: IntervalTracker, ledger: AckLedger,
                 publisher: ResultsPublisher, link: Link, clock: Clock, *, write: Callable[[], bool],
                 finish: Callable[[int], None], summary: Callable[[], str], exit_when_done: bool,
                 dc_capacity_kw: float | None = None) -> None:
        self.store = store
        self.runs = runs
        self.results = results
        self.ledger = ledger
        self.publisher = publisher
        self.link = link
        self.clock = clock
        self.write = write
        self.finish = finish
        self.summary = summary
        self.exit_when_done = exit_when_done
        self.dc_capacity_kw = dc_capacity_kw
        self._closing: list[tuple[Run, Iterator[None]]] = []

    def start(self) -> None:
        """Queue the day files of runs complete on disk for sorting and summaries (done by :meth:`work`)."""
        if self.store.pending:
            return  # a run counts queued rows: it is complete on disk only once they are written
        for run in self.runs.pop_complete(record=False):
            log.info("run %s complete: every reading of %s is written", run.run_id, ", ".join(run.meters))
            self._closing.append((run, self._close_steps(run)))

    def work(self, deadline: float) -> None:
        """Count finished runs' days and close complete runs until ``deadline`` [monotonic s]."""
        try:
            if self.runs.counting:
                self.runs.advance(deadline, self.clock.monotonic)
        except OutputError as error:
            log.error("%s; stopping", error)
            self.finish(1)
            return
        self.start()
        while self._closing and self.clock.monotonic() < deadline:
            run, steps = self._closing[0]
            try:
                if next(steps, StopIteration) is StopIteration:
                    self._closing.pop(0)
                    self.publisher.close_run(run)  # recorded complete once its notices are confirmed
            except Exception as error:  # this run's failure (a day, a summary, a date): every other run goes on
                self._closing.pop(0)
                self.runs.fail(run, f"closing it failed: {error!r}")
        if self.runs.failed_unsaved:
            self.write()  # a failed run is recorded so at once: no later start works on it again

    def _close_steps(self, run: Run) -> Iterator[None]:
        """Put each day file of a complete run in timestamp order, write ``<date>.summary.json``, log it.

        Yields after each day, so a long run is closed over several ticks. Raises :class:`OSError` if a
        summary cannot be written (the run fails, :meth:`work`).
        """
        for end in run.ends.values():
            for day, _start, _end in self.store.dates_between(end.first_ms / 1000, end.last_ms / 1000):
                try:
                    day_file = self.store.existing(end.meter_id, day)
                except OutputError as error:
                    log.error("%s; no summary for it", error)
                    continue
                if day_file is not None and day_file.totals.rows:
                    self._close_day(end.meter_id, day_file, end.interval_s)
                yield

    def _close_day(self, meter_id: str, day_file: DayFile, interval_s: int) -> None:
        try:
            day_file.sort()
        except OutputError as error:
            log.error("%s; its rows stay in arrival order", error)
        if self.store.battery is None:
            summary = day_file.totals.summary(meter_id, day_file.day.day.isoformat(), interval_s, self.dc_capacity_kw)
            figures = None
        else:  # from the file, as batch mode computes it, with the battery's object
            summary, figures = self.store.battery.close_day(day_file, interval_s, self.dc_capacity_kw)
        write_summary_json(summary, day_file.path.parent, figures)
        log.info("%s %s: consumed %.2f kWh, PV %.2f kWh, imported %.2f kWh, exported %.2f kWh, "
                 "self-consumption %s, self-sufficiency %s, %d rows", meter_id, summary.day,
                 summary.consumed_kwh, summary.pv_kwh, summary.imported_kwh, summary.exported_kwh,
                 _percent_text(summary.self_consumption_percent),
                 _percent_text(summary.self_sufficiency_percent), summary.rows)

    def check_done(self) -> None:
        """With ``exit_when_done``: finish once every announced run is done and nothing waits; give up on runs
        an earlier process left unfinished once the queue is drained."""
        if (not self.exit_when_done or self.store.pending or self.ledger.in_flight or self.results.pending
                or self.publisher.waiting):
            return
        if self.runs.all_done:
            self.runs.save()
            if self.runs.failures:
                log.error("every announced run is finished, %d of them failed: %s", self.runs.failures,
                          self.summary())
                self.finish(1)
                return
            log.info("every announced run is complete: %s", self.summary())
            self.finish(0)
        elif self.runs.stale() and self.ledger.nothing_in_flight() and self.link.channel is not None:
            self.link.channel.queue_declare(topology.QUEUE, passive=True, callback=self._on_queue_depth)

    def _on_queue_depth(self, frame: pika.frame.Method) -> None:
        stale = self.runs.stale()
        if stale and frame.method.message_count == 0 and self.ledger.nothing_in_flight():
            self.runs.abandon(stale)
            if self.write():
                self.check_done()
