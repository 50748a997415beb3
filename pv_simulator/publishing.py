"""Results publishing of the PV simulator: interval results and run-complete notices to ``pvsim.results``.

After each flush the interval results it made due (:mod:`pv_simulator.results`) are published, at most
:data:`RESULTS_PER_TURN` per turn of the I/O loop and :data:`RESULTS_IN_FLIGHT` unconfirmed, then the
run-complete notices of runs that closed. The acks of the flush's deliveries wait for all of them to be
published and confirmed (:class:`~pv_simulator.ledger.AckLedger`), so the feed is at-least-once: after a
lost channel or a crash the same results are published again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Protocol

from pika.adapters.select_connection import SelectConnection
from pika.channel import Channel
from pika.spec import BasicProperties

from common import topology
from pv_simulator.ledger import AckLedger
from pv_simulator.results import IntervalTracker, interval_body, run_complete_body
from pv_simulator.runs import MeterEnd, Run
from pv_simulator.writer import CsvStore

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


class Link(Protocol):
    """The service's broker link as the publisher sees it: the current channel and connection (None while
    reconnecting) and whether the service has finished."""

    channel: Channel | None
    connection: SelectConnection | None
    finished: bool


class ResultsPublisher:
    """Publishes the interval results each flush made due and the run-complete notices, with confirms.

    Each publish takes a publish tag from the ``ledger``, which holds back the acks of the flush's deliveries
    until it is confirmed. ``after_turn`` runs after each later turn of publishing (the service acks what
    may be acked and checks whether it is done).
    """

    def __init__(self, store: CsvStore, results: IntervalTracker, ledger: AckLedger, link: Link,
                 after_turn: Callable[[], None]) -> None:
        self.store = store
        self.results = results
        self.ledger = ledger
        self.link = link
        self.after_turn = after_turn
        self.published = 0
        """Interval results published so far (a result published again after a lost channel counts again)."""
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

    @property
    def publishing(self) -> bool:
        """The last flush's results are still being published (the next flush waits)."""
        return bool(self._unpublished)

    @property
    def waiting(self) -> bool:
        """Results or notices wait to be published."""
        return bool(self._unpublished or self._run_notices)

    def take_due(self) -> None:
        """A flush wrote the rows of the intervals now due: take them for publishing (their deliveries'
        acks wait until they are published and confirmed; redelivered after a crash, they make them due
        again). Only with an open channel."""
        channel = self.link.channel
        if channel is not None and channel.is_open and self.results.pending:
            self._unpublished = deque(self.results.take())  # not empty: results are pending
            self.ledger.hold_for_results()  # released when the last of them is published

    def recover(self, meter_id: str, epoch_s: int) -> None:
        """First reading of a meter since the start: an earlier process may have left the interval of
        the meter's previous row unpublished (it crashed before the confirm), so publish it again."""
        previous = self.store.held_before(meter_id, epoch_s)
        interval_s = self.results.interval_s
        if previous is not None and previous // interval_s < epoch_s // interval_s:
            self.results.mark(meter_id, previous)

    def close_run(self, run: Run) -> None:
        """A run is complete: its meters' last intervals are due, then one run-complete notice per meter."""
        for end in run.ends.values():
            if self.results.seen(end.meter_id):
                self.results.close(end.meter_id)
            else:  # completed on disk by an earlier process that may have crashed before publishing
                self.recover(end.meter_id, end.last_ms // 1000)
                self.results.mark(end.meter_id, end.last_ms // 1000)
        self._run_notices.extend((run, end) for end in run.ends.values())  # after anything that may raise
        self._notices_left[id(run)] = self._notices_left.get(id(run), 0) + len(run.ends)

    def confirmed(self, tags: list[int]) -> list[Run]:
        """The broker confirmed these publish tags; returns the runs whose last notice is now confirmed."""
        complete = []
        for tag in tags:
            self._interval_in_flight.pop(tag, None)
            notice = self._notice_in_flight.pop(tag, None)
            if notice is not None and self._notice_confirmed(notice[0]):
                complete.append(notice[0])
        return complete

    def refill(self) -> None:
        """Confirms made room in flight: publish a turn's worth more, if results wait for room."""
        if (self._unpublished and not self._more_scheduled
                and len(self._interval_in_flight) <= RESULTS_IN_FLIGHT - RESULTS_PER_TURN):
            self.publish()

    def channel_lost(self) -> None:
        """Results and notices not confirmed on the lost channel are published again on the next one."""
        self.results.retry([*self._interval_in_flight.values(), *self._unpublished])
        self._unpublished.clear()
        self._more_scheduled = False  # a turn scheduled on the lost connection's loop never comes
        self._run_notices[:0] = self._notice_in_flight.values()
        self._interval_in_flight.clear()
        self._notice_in_flight.clear()

    def _notice_confirmed(self, run: Run) -> bool:
        """One notice of ``run`` is confirmed; True if it was the last one."""
        left = self._notices_left[id(run)] - 1
        if left:
            self._notices_left[id(run)] = left
            return False
        del self._notices_left[id(run)]
        return True

    def publish(self, everything: bool = False) -> None:
        """Publish :data:`RESULTS_PER_TURN` (or with ``everything``, all) of the last flush's interval results;
        once all are out, the run-complete notices due. More left: the rest on the next turns of the I/O loop,
        or, with :data:`RESULTS_IN_FLIGHT` unconfirmed, as confirms come back (:meth:`refill`).
        """
        channel = self.link.channel
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
            self.published += 1
        if self._unpublished:
            connection = self.link.connection
            if (connection is not None and not self._more_scheduled
                    and len(self._interval_in_flight) < RESULTS_IN_FLIGHT):
                self._more_scheduled = True
                connection.ioloop.call_later(0, partial(self._publish_more, channel))
            return
        self.ledger.results_out()
        self.store.trim_intervals()  # the intervals of the flush are published: back to the recent window
        self._publish_notices(channel, properties)

    def _publish_more(self, channel: Channel) -> None:
        """The next turn's share of the last flush's results (if the channel they were taken on is still open)."""
        self._more_scheduled = False
        current = self.link.channel
        if self.link.finished or current is None or current is not channel or not current.is_open:
            return
        self.publish()
        self.after_turn()

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
