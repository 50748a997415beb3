"""The PV simulator's messaging layer: consume readings, write rows, ack after fsync.

Per delivery: validate the body (:mod:`common.schema`), queue the CSV row in its
day file (duplicates are dropped there). Every ``BATCH_ROWS`` rows or
``FLUSH_INTERVAL_S`` the queued rows are written, flushed and fsynced, and only then
is everything delivered so far acknowledged with one multiple-ack. With many day
files dirty at once (many meters) the batch grows to ``ROWS_PER_FILE`` rows per file
and flushes are spaced so that fsyncs take at most about 1 / ``FLUSH_DUTY`` of the
time. After each write the results of intervals that closed
(:mod:`pv_simulator.results`) and of runs that completed are published to
``pvsim.results`` with confirms; the deliveries of that write are acknowledged only
once those are confirmed, so the feed is at-least-once. A body that breaks the
contract is republished to the dead-letter exchange with the reason in the
``x-pvsim-reason`` header, and acknowledged once the broker confirmed that copy.

Work that grows with a run (counting what a finished run has on disk, sorting and
summarising its day files) runs in the periodic tick, at most ``WORK_BUDGET_S`` per
tick, never inside a message callback, so the I/O loop (and its heartbeats) keeps
turning; the final log line gives the longest I/O-loop stall (:class:`~common.loopwatch.LoopWatch`).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial

import pika
from pika.channel import Channel
from pika.spec import Basic, BasicProperties

from common import topology
from common.amqp import AmqpService
from common.loopwatch import LoopWatch
from common.schema import InvalidMessage, parse_end_of_run, parse_reading
from pv_simulator.ledger import AckLedger
from pv_simulator.results import IntervalTracker, interval_body, run_complete_body
from pv_simulator.runs import MeterEnd, Run, RunTracker
from pv_simulator.summary import write_summary_json
from pv_simulator.writer import CsvStore, DayFile
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
WORK_BUDGET_S = 0.05
"""Time per tick spent counting and closing finished runs [s]; one day file at least."""
STANDBY_SCAN_S = 2.0
"""Without deliveries for this long, look this often for run records another PV simulator wrote [s]."""
RESULTS_PER_TURN = 1_000
"""Interval results published per turn of the I/O loop (about 20 ms of CPU here). A flush that closed more
(8,000 at 1,000 meters and 60 s) publishes the rest on the next turns, so the loop keeps reading deliveries
and sending heartbeats in between (published all at once they held it for 0.3-0.8 s)."""
RESULTS_IN_FLIGHT = 2_000
"""Interval results published and not yet confirmed, at most: more of a flush's results go out, a turn's worth
at a time, once confirms bring it down to ``RESULTS_IN_FLIGHT - RESULTS_PER_TURN``, so the connection's buffer
and the confirm bookkeeping hold as much at 1,000 meters as at 10 (refilling one result per confirm cost
the year at 60 s 14 % more CPU)."""
NOTICE_BYTES_PER_FLUSH = 1_000_000
"""Run-complete notices published per flush, in body bytes (each lists the run's meters: 1,000 notices of
12 kB at 1,000 meters sat in the connection's buffer at once) [bytes]; at least one."""
REPORT_INTERVAL_S = 10.0
"""Time between progress log lines [s]."""
BAD_INPUT_LOG_LIMIT = 10
"""Bad messages logged one by one per report interval; the rest are counted."""


def _percent_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} %"


class PvSimulatorService(AmqpService):
    """Consumes ``pvsim.pv_simulator`` into a :class:`CsvStore`."""

    def __init__(self, store: CsvStore, runs: RunTracker, url: str, broker_timeout_s: float,
                 exit_when_done: bool, idle_exit_s: float = 0.0, dc_capacity_kw: float | None = None) -> None:
        super().__init__(url, broker_timeout_s)
        self.dc_capacity_kw = dc_capacity_kw  # the PV's DC capacity [kWp] for the summaries' yield; None: unknown
        self.idle_exit_s = idle_exit_s
        self.store = store
        self.runs = runs
        self.results = IntervalTracker(store.results_interval_s)
        self.results_published = 0
        self._interval_in_flight: dict[int, tuple[str, int]] = {}  # publish tag -> (meter id, interval start)
        # Results the last flush made due, still to publish (a turn at a time); the acks of its deliveries
        # wait for them (the ledger), and the next flush waits until they are all published.
        self._unpublished: deque[tuple[str, int]] = deque()
        self._more_scheduled = False  # a turn of the I/O loop will publish more of them
        # Run-complete notices to publish, one per meter; bodies are made when published (each lists
        # every meter of the run: held all at once they took about 200 MB at 1,000 meters).
        self._run_notices: list[tuple[Run, MeterEnd]] = []
        self._notice_in_flight: dict[int, tuple[Run, MeterEnd]] = {}  # publish tag -> notice
        self._notices_left: dict[int, int] = {}  # id of a run -> its notices not confirmed yet
        self._channels = 0
        self._catch_up = False  # the next delivery starts a takeover: re-read what is on disk first
        self._redelivering = False
        self._tag_at_tick = 0
        self._last_delivery = time.monotonic()  # as seen by the tick
        self._last_scan = self._last_delivery
        self.exit_when_done = exit_when_done
        self.rows_written = 0
        self.duplicates = 0
        self.dead_lettered = 0
        self.dead_letter_uncapped = ""
        """The broker's refusal of the capped dead-letter queue when an earlier version's, uncapped, is in use."""
        self._queued = 0
        self.ledger = AckLedger()  # this channel's deliveries and publishes: what may be acked
        self._bad_logged = 0
        self._flush_s = 0.0  # duration of the last flush
        self._flushed_at = 0.0  # monotonic time the last flush ended
        self._closing: list[tuple[Run, Iterator[None]]] = []
        self.loop_watch = LoopWatch()
        self._started = time.monotonic()
        self._last_report = self._started
        self._rows_at_report = 0

    # -- AmqpService -------------------------------------------------------------------------
    def on_channel_open(self, channel: Channel) -> None:
        self._channels += 1
        self._catch_up = self._channels > 1  # another PV simulator may have written meanwhile
        self.ledger.reset()
        channel.confirm_delivery(self._on_confirm, callback=lambda _f: topology.declare(
            channel, self._consume, self._on_uncapped))

    def _on_uncapped(self, refusal: str) -> None:
        self.dead_letter_uncapped = refusal
        topology.warn_uncapped(refusal)

    def _consume(self) -> None:
        self.declared = True
        channel = self.channel
        assert channel is not None and self.connection is not None
        channel.basic_qos(prefetch_count=PREFETCH, callback=lambda _f: channel.basic_consume(
            topology.QUEUE, self._on_message, auto_ack=False))
        log.info("consuming from %s, writing to %s%s", topology.QUEUE, self.store.output_dir,
                 f"; dead letters go to an UNCAPPED {topology.DEAD_LETTER_QUEUE} (see the warning)"
                 if self.dead_letter_uncapped else "")
        self.loop_watch.watch(self.connection.ioloop)
        self.connection.ioloop.call_later(FLUSH_INTERVAL_S, self._tick)
        self._check_done()

    def on_connection_lost(self) -> None:
        # Rows already indexed must reach the disk: their redeliveries will be dropped as duplicates.
        self._write_or_fail()
        # Results not confirmed on the lost channel are published again on the next one.
        self.results.retry([*self._interval_in_flight.values(), *self._unpublished])
        self._unpublished.clear()
        self._more_scheduled = False  # a turn scheduled on the lost connection's loop never comes
        self._run_notices[:0] = self._notice_in_flight.values()
        self._interval_in_flight.clear()
        self._notice_in_flight.clear()

    def on_stop_requested(self) -> None:
        self._publish_results(everything=True)  # what the last flush closed, then:
        self._flush()  # write, fsync and ack everything delivered so far
        if not self.finished:
            log.info("stopped: %s", self._summary())
            self.finish(0)

    # -- deliveries ----------------------------------------------------------------------------
    def _on_message(self, channel: Channel, method: Basic.Deliver, properties: BasicProperties,
                    body: bytes) -> None:
        self.ledger.delivered(method.delivery_tag)
        if method.redelivered is not self._redelivering or self._catch_up:
            self._redelivering = method.redelivered
            if (self._redelivering or self._catch_up) and not self._take_over():
                return
        key = method.routing_key
        try:
            if topology.is_reading_key(key):
                self._on_reading(key, body)
            elif topology.is_end_key(key):
                end = parse_end_of_run(body)
                topology.check_meter_word(key, end.meter_id)
                self.runs.announce(end)
            else:
                raise InvalidMessage(f"unexpected routing key {key!r}")
        except InvalidMessage as error:
            self._dead_letter(channel, method, properties, body, error.reason)
        except OutputError:
            raise
        except Exception:
            # Unexpected: let the quorum queue redeliver it, up to its delivery limit.
            log.exception("failed to handle delivery %d (%r); returning it to the queue", method.delivery_tag, key)
            channel.basic_reject(method.delivery_tag, requeue=True)  # counts towards the delivery limit
            self.ledger.rejected(method.delivery_tag)
        if ((self._queued >= BATCH_ROWS and self._queued >= self._batch_rows())  # the cheap test first: per delivery
                or self.store.new_dirty_files >= NEW_FILES_PER_FLUSH):
            self._flush()

    def _on_reading(self, key: str, body: bytes) -> None:
        """Queue a reading's row (or count it as a duplicate) and follow its results interval."""
        reading = parse_reading(body)
        meter_id = reading.meter_id
        topology.check_meter_word(key, meter_id)
        ms = round(reading.timestamp.timestamp() * 1000)
        if self.store.add(meter_id, ms, reading.power_w) is None:
            self.duplicates += 1
            first = self.results.row(meter_id, ms // 1000)
        else:
            self._queued += 1
            self.runs.written(meter_id, ms)
            first = self.results.row(meter_id, ms // 1000)
        if first:
            self._recover_results(meter_id, ms // 1000)

    def _take_over(self) -> bool:
        """Write what is queued, then re-read day files and run records from disk (another PV simulator
        sharing the output directory may have written them). False if writing failed (the service stops).

        Called on a new channel's first delivery and when redeliveries begin (perhaps another
        PV simulator's unacked readings, handed over by single active consumer).
        """
        self._catch_up = False
        log.info("deliveries %s: re-reading day files and run records from disk",
                 "redelivered (a takeover or a reconnect)" if self._redelivering else "on a new channel")
        if not self._write_or_fail():
            return False
        self.store.forget()
        self.runs.refresh()
        return True

    def _recover_results(self, meter_id: str, epoch_s: int) -> None:
        """First reading of a meter since the start: an earlier process may have left the interval of
        the meter's previous row unpublished (it crashed before the confirm), so publish it again."""
        previous = self.store.held_before(meter_id, epoch_s)
        interval_s = self.results.interval_s
        if previous is not None and previous // interval_s < epoch_s // interval_s:
            self.results.mark(meter_id, previous)

    def _dead_letter(self, channel: Channel, method: Basic.Deliver, properties: BasicProperties,
                     body: bytes, reason: str) -> None:
        self.dead_lettered += 1
        if self._bad_logged < BAD_INPUT_LOG_LIMIT:
            self._bad_logged += 1
            log.warning("dead-lettering a message with routing key %r: %s", method.routing_key, reason[:300])
        kept, about_body = topology.dead_letter_copy(body)  # a multi-megabyte body keeps its first 4 KiB
        headers = dict(properties.headers or {})
        headers.update({
            topology.REASON_HEADER: reason[:1000],
            topology.ROUTING_KEY_HEADER: method.routing_key,
            topology.REJECTED_AT_HEADER: datetime.now(UTC).isoformat(timespec="seconds"),
            **about_body,
        })
        copy = BasicProperties(content_type=properties.content_type, delivery_mode=2, headers=headers,
                               message_id=properties.message_id, timestamp=properties.timestamp)
        channel.basic_publish(topology.DEAD_LETTER_EXCHANGE, method.routing_key, kept, copy)
        self.ledger.published(method.delivery_tag)

    def _on_confirm(self, frame: pika.frame.Method) -> None:
        if self.finished or self.channel is None or not self.channel.is_open:
            return
        method = frame.method
        tags = self.ledger.confirmed(method.delivery_tag, method.multiple)
        if isinstance(method, Basic.Nack):
            log.error("broker refused %d publishes (dead-letter copies or results); the deliveries they "
                      "stand for will be redelivered and the results published again", len(tags))
            if self.channel is not None and self.channel.is_open:
                self.channel.close()
            return
        for tag in tags:
            self._interval_in_flight.pop(tag, None)
            notice = self._notice_in_flight.pop(tag, None)
            if notice is not None and self._notice_confirmed(notice[0]):
                self.runs.record_complete(notice[0])
                if not self._write_or_fail():
                    return
        if (self._unpublished and not self._more_scheduled  # waiting for room in flight: a turn's worth
                and len(self._interval_in_flight) <= RESULTS_IN_FLIGHT - RESULTS_PER_TURN):
            self._publish_results()
        self._ack()
        self._check_done()

    # -- writing and acking ---------------------------------------------------------------------
    def _batch_rows(self) -> int:
        return min(PREFETCH // 2, max(BATCH_ROWS, ROWS_PER_FILE * self.store.dirty_files))

    def _tick(self) -> None:
        if self.finished or self.connection is None or not self.connection.is_open:
            return
        now = time.monotonic()
        if self.ledger.last != self._tag_at_tick:
            self._tag_at_tick, self._last_delivery = self.ledger.last, now
        work = (self.ledger.unflushed or self.store.pending or self.results.pending
                or self._run_notices or self._unpublished)
        if work and now - self._flushed_at >= max(FLUSH_INTERVAL_S, FLUSH_DUTY * self._flush_s):
            self._flush()
        elif not work:
            self._scan_when_idle(now)
        if not self.finished:
            self._run_work(time.monotonic() + WORK_BUDGET_S)
        if not self.finished and self.runs.stale():
            self._check_done()
        if now - self._last_report >= REPORT_INTERVAL_S:
            self._report(now)
        if self._idle_too_long(now):
            self._flush()
            log.error("no message for %.0f s while waiting for %s (is the meter running? with Compose: "
                      "docker compose logs meter); giving up: %s", now - self._last_delivery,
                      "a run to be announced" if not self.runs.seen else "announced runs to complete",
                      self._summary())
            self.finish(1)
        if not self.finished:
            self.connection.ioloop.call_later(FLUSH_INTERVAL_S, self._tick)

    def _scan_when_idle(self, now: float) -> None:
        """Idle, maybe a standby: take in runs another PV simulator recorded, so a takeover can complete them."""
        if now - self._last_delivery > STANDBY_SCAN_S and now - self._last_scan > STANDBY_SCAN_S:
            self._last_scan = now
            if self.runs.unknown_records() and self._take_over():
                self._flush()

    def _idle_too_long(self, now: float) -> bool:
        """``--exit-when-done`` with ``--idle-exit-s``: nothing arrived for that long and runs are still expected."""
        return (self.exit_when_done and self.idle_exit_s > 0 and not self.finished
                and now - self._last_delivery > self.idle_exit_s and not self.runs.all_done)

    def _flush(self) -> None:
        """Write and fsync queued rows and run records, publish due results, ack what needs no confirm.

        Does nothing while the results of the last flush are still being published (:meth:`_publish_more`).
        """
        if self._unpublished:
            return
        started = time.monotonic()
        if not self._write_or_fail() or self.store.pending:  # pending: a file locked by another process
            return
        self._flushed_at = time.monotonic()
        self._flush_s = self._flushed_at - started
        self.ledger.flushed_all()
        self._start_closing()
        channel = self.channel
        if channel is not None and channel.is_open and self.results.pending:
            # Taken now: the rows of these intervals are on disk. The flush's deliveries are acked once
            # they are published and confirmed (redelivered after a crash, they make them due again).
            self._unpublished = deque(self.results.take())  # not empty: results are pending
            self.ledger.hold_for_results()  # released when the last of them is published
        self._publish_results()
        self._ack()
        self._check_done()

    def _close_results(self, run: Run) -> None:
        """A run is complete: its meters' last intervals are due, then one run-complete notice per meter."""
        for end in run.ends.values():
            if self.results.seen(end.meter_id):
                self.results.close(end.meter_id)
            else:  # completed on disk by an earlier process that may have crashed before publishing
                self._recover_results(end.meter_id, end.last_ms // 1000)
                self.results.mark(end.meter_id, end.last_ms // 1000)
        self._run_notices.extend((run, end) for end in run.ends.values())  # after anything that may raise
        self._notices_left[id(run)] = self._notices_left.get(id(run), 0) + len(run.ends)

    def _notice_confirmed(self, run: Run) -> bool:
        """One notice of ``run`` is confirmed; True if it was the last one."""
        left = self._notices_left[id(run)] - 1
        if left:
            self._notices_left[id(run)] = left
            return False
        del self._notices_left[id(run)]
        return True

    def _publish_results(self, everything: bool = False) -> None:
        """Publish :data:`RESULTS_PER_TURN` (or with ``everything``, all) of the last flush's interval results;
        once all are out, the run-complete notices due. More left: the rest on the next turns of the I/O loop,
        or, with :data:`RESULTS_IN_FLIGHT` unconfirmed, as confirms come back (:meth:`_on_confirm`).

        Each publish holds back the acks of the flush's deliveries until it is confirmed.
        """
        channel = self.channel
        if channel is None or not channel.is_open or not (self._unpublished or self._run_notices):
            return
        properties = BasicProperties(content_type="application/json", delivery_mode=2)
        interval_s = self.results.interval_s
        room = RESULTS_IN_FLIGHT - len(self._interval_in_flight)
        limit = len(self._unpublished) if everything else min(RESULTS_PER_TURN, room)
        if self._unpublished and limit <= 0:
            return  # the next confirms make room
        unpublished = self._unpublished
        for _ in range(min(limit, len(unpublished))):
            meter_id, start_s = unpublished.popleft()
            sums = self.store.interval_sums(meter_id, start_s)
            if sums.readings == 0:
                continue
            channel.basic_publish(topology.RESULTS_EXCHANGE, topology.interval_routing_key(meter_id),
                                  interval_body(meter_id, start_s, interval_s, sums), properties)
            self._interval_in_flight[self.ledger.published()] = (meter_id, start_s)
            self.results_published += 1
        if self._unpublished:
            if (self.connection is not None and not self._more_scheduled
                    and len(self._interval_in_flight) < RESULTS_IN_FLIGHT):
                self._more_scheduled = True
                self.connection.ioloop.call_later(0, partial(self._publish_more, channel))
            return
        self.ledger.results_out()
        self.store.trim_intervals()  # the intervals of the flush are published: back to the recent window
        self._publish_notices(channel, properties)

    def _publish_more(self, channel: Channel) -> None:
        """The next turn's share of the last flush's results (if the channel they were taken on is still open)."""
        self._more_scheduled = False
        current = self.channel
        if self.finished or current is None or current is not channel or not current.is_open:
            return
        self._publish_results()
        self._ack()
        self._check_done()

    def _publish_notices(self, channel: Channel, properties: BasicProperties) -> None:
        """Publish run-complete notices, up to :data:`NOTICE_BYTES_PER_FLUSH` of bodies per flush."""
        budget, sent = NOTICE_BYTES_PER_FLUSH, 0
        for notice in self._run_notices:  # the rest at the next flushes (the run is recorded complete after)
            if budget <= 0:
                break
            run, end = notice
            body = run_complete_body(run.run_id, run.meters, end.meter_id, end.readings, end.interval_s,
                                     end.first_ms / 1000, end.last_ms / 1000)
            channel.basic_publish(topology.RESULTS_EXCHANGE, topology.run_routing_key(end.meter_id), body,
                                  properties)
            budget -= len(body)
            sent += 1
            self._notice_in_flight[self.ledger.published()] = notice
        del self._run_notices[:sent]

    def _start_closing(self) -> None:
        """Queue the day files of runs complete on disk for sorting and summaries (done by :meth:`_run_work`)."""
        if self.store.pending:
            return  # a run counts queued rows: it is complete on disk only once they are written
        for run in self.runs.pop_complete(record=False):
            log.info("run %s complete: every reading of %s is written", run.run_id, ", ".join(run.meters))
            self._closing.append((run, self._close_steps(run)))

    def _run_work(self, deadline: float) -> None:
        """Count finished runs' days and close complete runs until ``deadline`` [monotonic s]."""
        try:
            if self.runs.counting:
                self.runs.advance(deadline)
        except OutputError as error:
            log.error("%s; stopping", error)
            self.finish(1)
            return
        self._start_closing()
        while self._closing and time.monotonic() < deadline:
            run, steps = self._closing[0]
            try:
                if next(steps, StopIteration) is StopIteration:
                    self._closing.pop(0)
                    self._close_results(run)  # recorded complete once its notices are confirmed
            except Exception as error:  # this run's failure (a day, a summary, a date): every other run goes on
                self._closing.pop(0)
                self.runs.fail(run, f"closing it failed: {error!r}")
        if self.runs.failed_unsaved:
            self._write_or_fail()  # a failed run is recorded so at once: no later start works on it again

    def _close_steps(self, run: Run) -> Iterator[None]:
        """Put each day file of a complete run in timestamp order, write ``<date>.summary.json``, log it.

        Yields after each day, so a long run is closed over several ticks. Raises :class:`OSError` if a
        summary cannot be written (the run fails, :meth:`_run_work`).
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

    def _write_or_fail(self) -> bool:
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
            self.finish(1)
            return False
        self.rows_written += self._queued
        self._queued = 0
        return True

    def _ack(self) -> None:
        """Multiple-ack up to the last delivery that is on disk, its publishes confirmed (:class:`AckLedger`)."""
        channel = self.channel
        if channel is not None and channel.is_open and (upto := self.ledger.ack()) is not None:
            channel.basic_ack(upto, multiple=True)

    def _check_done(self) -> None:
        if (not self.exit_when_done or self.store.pending or self.ledger.in_flight or self.results.pending
                or self._run_notices or self._unpublished):
            return
        if self.runs.all_done:
            self.runs.save()
            if self.runs.failures:
                log.error("every announced run is finished, %d of them failed: %s", self.runs.failures,
                          self._summary())
                self.finish(1)
                return
            log.info("every announced run is complete: %s", self._summary())
            self.finish(0)
        elif self.runs.stale() and self.ledger.nothing_in_flight() and self.channel is not None:
            # Runs left unfinished by an earlier process: give up on them once the queue is drained.
            self.channel.queue_declare(topology.QUEUE, passive=True, callback=self._on_queue_depth)

    def _on_queue_depth(self, frame: pika.frame.Method) -> None:
        stale = self.runs.stale()
        if stale and frame.method.message_count == 0 and self.ledger.nothing_in_flight():
            self.runs.abandon(stale)
            if self._write_or_fail():
                self._check_done()

    # -- reporting -------------------------------------------------------------------------------
    def _summary(self) -> str:
        elapsed = time.monotonic() - self._started
        return (f"{self.rows_written} rows written, {self.duplicates} duplicates dropped, "
                f"{self.dead_lettered} messages dead-lettered, {self.results_published} interval results "
                f"published in {elapsed:.1f} s, {self.loop_watch.describe()}")

    def _report(self, now: float) -> None:
        rate = (self.rows_written - self._rows_at_report) / (now - self._last_report)
        if rate > 0 or self._bad_logged >= BAD_INPUT_LOG_LIMIT:
            log.info("%s (%.0f rows/s)", self._summary(), rate)
        self._last_report = now
        self._rows_at_report = self.rows_written
        self._bad_logged = 0
