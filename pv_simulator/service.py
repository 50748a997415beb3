"""The PV simulator's messaging layer: consume readings, write rows, ack after fsync; the wiring of its parts.

Per delivery: validate the body (:mod:`common.schema`), queue the CSV row in its day file (duplicates are
dropped there), follow its results interval. The parts, each behind a small seam:

* :class:`~pv_simulator.ledger.AckLedger`: which deliveries may be acknowledged (on disk, publishes confirmed);
* :class:`~pv_simulator.flush.FlushPolicy`: when queued rows are written and fsynced (by batch size per
  delivery, by time per tick), after which everything delivered so far is acked with one multiple-ack;
* :class:`~pv_simulator.publishing.ResultsPublisher`: after each write, the interval results that closed and
  the run-complete notices, published to ``pvsim.results`` with confirms; the deliveries of that write are
  acked only once those are confirmed, so the feed is at-least-once;
* :class:`~pv_simulator.closing.RunCloser`: runs complete on disk sorted and summarised in the periodic tick,
  at most ``WORK_BUDGET_S`` per tick, never inside a message callback, so the I/O loop (and its heartbeats)
  keeps turning; with ``--exit-when-done``, the end of the work.

A body that breaks the contract is republished to the dead-letter exchange with the reason in the
``x-pvsim-reason`` header, and acknowledged once the broker confirmed that copy. The final log line gives the
longest I/O-loop stall (:class:`~common.loopwatch.LoopWatch`).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import pika
from pika.channel import Channel
from pika.spec import Basic, BasicProperties

from common import topology
from common.amqp import AmqpService
from common.loopwatch import LoopWatch
from common.schema import InvalidMessage, parse_end_of_run, parse_reading
from pv_simulator import flush
from pv_simulator.closing import RunCloser
from pv_simulator.flush import FlushPolicy
from pv_simulator.ledger import AckLedger
from pv_simulator.publishing import ResultsPublisher
from pv_simulator.results import IntervalTracker
from pv_simulator.runs import RunTracker
from pv_simulator.writer import CsvStore
from store.format import OutputError

log = logging.getLogger(__name__)

WORK_BUDGET_S = 0.05
"""Time per tick spent counting and closing finished runs [s]; one day file at least."""
REPORT_INTERVAL_S = 10.0
"""Time between progress log lines [s]."""
BAD_INPUT_LOG_LIMIT = 10
"""Bad messages logged one by one per report interval; the rest are counted."""


class PvSimulatorService(AmqpService):
    """Consumes ``pvsim.pv_simulator`` into a :class:`CsvStore`."""

    def __init__(self, store: CsvStore, runs: RunTracker, url: str, broker_timeout_s: float,
                 exit_when_done: bool, idle_exit_s: float = 0.0, dc_capacity_kw: float | None = None) -> None:
        super().__init__(url, broker_timeout_s)
        self.store = store
        self.runs = runs
        self.results = IntervalTracker(store.results_interval_s)
        self.ledger = AckLedger()  # this channel's deliveries and publishes: what may be acked
        self.publisher = ResultsPublisher(store, self.results, self.ledger, self, self._after_turn)
        self.flushing = FlushPolicy(store, runs, self.results, self.ledger, self.publisher, time, fail=self.finish,
                                    take_over=self._take_over, on_written=lambda: self.closer.start(),
                                    after_turn=self._after_turn, idle_exit_s=idle_exit_s if exit_when_done else 0.0)
        self.closer = RunCloser(store, runs, self.results, self.ledger, self.publisher, self, time,
                                write=self.flushing.write, finish=self.finish, summary=self._summary,
                                exit_when_done=exit_when_done, dc_capacity_kw=dc_capacity_kw)
        self._channels = 0
        self._catch_up = False  # the next delivery starts a takeover: re-read what is on disk first
        self._redelivering = False
        self._close_scheduled = False
        self.duplicates = 0
        self.dead_lettered = 0
        self.dead_letter_uncapped = ""
        """The broker's refusal of the capped dead-letter queue when an earlier version's, uncapped, is in use."""
        self._bad_logged = 0
        self.loop_watch = LoopWatch()
        self._started = time.monotonic()
        self._last_report = self._started
        self._rows_at_report = 0

    @property
    def dc_capacity_kw(self) -> float | None:
        """The PV's DC capacity [kWp] the day summaries' specific yield is computed with (None: unknown)."""
        return self.closer.dc_capacity_kw

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
        channel.basic_qos(prefetch_count=flush.PREFETCH, callback=lambda _f: channel.basic_consume(
            topology.QUEUE, self._on_message, auto_ack=False))
        log.info("consuming from %s, writing to %s%s", topology.QUEUE, self.store.output_dir,
                 f"; dead letters go to an UNCAPPED {topology.DEAD_LETTER_QUEUE} (see the warning)"
                 if self.dead_letter_uncapped else "")
        self.loop_watch.watch(self.connection.ioloop)
        self.connection.ioloop.call_later(flush.FLUSH_INTERVAL_S, self._tick)
        self.closer.check_done()

    def on_connection_lost(self) -> None:
        # Rows already indexed must reach the disk: their redeliveries will be dropped as duplicates.
        self.flushing.write()
        self.publisher.channel_lost()

    def on_stop_requested(self) -> None:
        self.publisher.publish(everything=True)  # what the last flush closed, then:
        self.flushing.flush()  # write, fsync and ack everything delivered so far
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
                self._close_soon()
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
        if self.flushing.full():
            self.flushing.flush()

    def _on_reading(self, key: str, body: bytes) -> None:
        """Queue a reading's row (or count it as a duplicate) and follow its results interval."""
        reading = parse_reading(body)
        meter_id = reading.meter_id
        topology.check_meter_word(key, meter_id)
        ms = round(reading.timestamp.timestamp() * 1000)
        if self.store.add(meter_id, ms, reading.power_w) is None:
            self.duplicates += 1
        else:
            self.flushing.queued += 1
            self.runs.written(meter_id, ms)
        second = ms // 1000
        if self.results.row(meter_id, second):  # the meter's first row since the start
            self.publisher.recover(meter_id, second)

    def _close_soon(self) -> None:
        """A run's end was announced: write, close what is complete and publish its results and notices on the
        next turn of the I/O loop (outside this callback), not on the next ticks: a run's end waited for two
        of them (up to 0.2 s; a day at 1 s emulates in 6-7 s here)."""
        if not self._close_scheduled and self.connection is not None:
            self._close_scheduled = True
            self.connection.ioloop.call_later(0, self._close_now)

    def _close_now(self) -> None:
        self._close_scheduled = False
        if self.finished or self.connection is None or not self.connection.is_open:
            return
        self.flushing.flush()  # the run's last rows on disk: it can be complete
        if not self.finished:
            self.closer.work(time.monotonic() + WORK_BUDGET_S)  # count, sort, summarise
        if not self.finished and (self.publisher.waiting or self.results.pending):
            self.flushing.flush()  # its last intervals and run-complete notices

    def _take_over(self) -> bool:
        """Write what is queued, then re-read day files and run records from disk (another PV simulator
        sharing the output directory may have written them). False if writing failed (the service stops).

        Called on a new channel's first delivery and when redeliveries begin (perhaps another
        PV simulator's unacked readings, handed over by single active consumer).
        """
        self._catch_up = False
        log.info("deliveries %s: re-reading day files and run records from disk",
                 "redelivered (a takeover or a reconnect)" if self._redelivering else "on a new channel")
        if not self.flushing.write():
            return False
        self.store.forget()
        self.runs.refresh()
        return True

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
        for run in self.publisher.confirmed(tags):
            self.runs.record_complete(run)
            if not self.flushing.write():
                return
        self.publisher.refill()
        self._after_turn()

    def _after_turn(self) -> None:
        self._ack()
        self.closer.check_done()

    # -- the periodic tick and acking ------------------------------------------------------------
    def _tick(self) -> None:
        if self.finished or self.connection is None or not self.connection.is_open:
            return
        now = time.monotonic()
        self.flushing.tick(now)
        if not self.finished:
            self.closer.work(time.monotonic() + WORK_BUDGET_S)
        if not self.finished and self.runs.stale():
            self.closer.check_done()
        if now - self._last_report >= REPORT_INTERVAL_S:
            self._report(now)
        if not self.finished and self.flushing.idle_too_long(now):
            self.flushing.flush()
            log.error("no message for %.0f s while waiting for %s (is the meter running? with Compose: "
                      "docker compose logs meter); giving up: %s", now - self.flushing.last_delivery,
                      "a run to be announced" if not self.runs.seen else "announced runs to complete",
                      self._summary())
            self.finish(1)
        if not self.finished:
            self.connection.ioloop.call_later(flush.FLUSH_INTERVAL_S, self._tick)

    def _ack(self) -> None:
        """Multiple-ack up to the last delivery that is on disk, its publishes confirmed (:class:`AckLedger`)."""
        channel = self.channel
        if channel is not None and channel.is_open and (upto := self.ledger.ack()) is not None:
            channel.basic_ack(upto, multiple=True)

    # -- reporting -------------------------------------------------------------------------------
    def _summary(self) -> str:
        elapsed = time.monotonic() - self._started
        return (f"{self.flushing.rows_written} rows written, {self.duplicates} duplicates dropped, "
                f"{self.dead_lettered} messages dead-lettered, {self.publisher.published} interval results "
                f"published in {elapsed:.1f} s, {self.loop_watch.describe()}")

    def _report(self, now: float) -> None:
        rate = (self.flushing.rows_written - self._rows_at_report) / (now - self._last_report)
        if rate > 0 or self._bad_logged >= BAD_INPUT_LOG_LIMIT:
            log.info("%s (%.0f rows/s)", self._summary(), rate)
        self._last_report = now
        self._rows_at_report = self.flushing.rows_written
        self._bad_logged = 0
