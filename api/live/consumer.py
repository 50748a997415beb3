"""Consumer of the PV simulator's live results (``pvsim.results``) inside the web service's event loop.

Its own durable quorum queue (:func:`common.topology.results_queue`; one per web service, so each gets every
result) is bound to ``result.*.interval`` and ``result.*.run``. Messages are handled in
batches of what has arrived: bad ones are
republished to ``pvsim.dead_letter`` with the reason (confirmed, then acked), good ones are
upserted in one transaction, and only after that commit are they acknowledged and pushed to
live clients. While the database is unreachable the batch is retried with backoff and stays
unacknowledged in RabbitMQ (at most ``prefetch`` messages held); nothing is lost on a restart.
A lost broker connection is made again to any node of ``AMQP_URL`` (a comma-separated list),
each tried in turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage
from pamqp.common import FieldTable
from sqlalchemy.orm import Session

from api.db import queries
from api.db.engine import Database, DatabaseUnavailable
from api.live.hub import Hub, LiveMessage
from api.schemas import IntervalOut, RunOut
from common.schema import (
    IntervalResult,
    InvalidMessage,
    RunComplete,
    message_fields,
    parse_interval_result,
    parse_run_complete,
)
from common.topology import (
    DEAD_LETTER,
    DEAD_LETTER_EXCHANGE,
    DEAD_LETTER_QUEUE,
    EXCHANGE_TYPES,
    REASON_HEADER,
    RESULTS_EXCHANGE,
    ROUTING_KEY_HEADER,
    QueueSpec,
    check_meter_word,
    dead_letter_copy,
    is_interval_key,
    is_run_key,
    warn_uncapped,
)

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
"""How long one connection attempt to a broker node may take [s]."""
MAX_BATCH = 500


@dataclass
class FeedState:
    """What the live feed is doing, for ``/api/health`` and the stats messages."""

    broker: str = "connecting"
    database: str = "ok"
    intervals: int = 0
    runs: int = 0
    dead_lettered: int = 0
    dead_letters: int | None = None
    queue_depth: int | None = None
    dead_letter_uncapped: str = ""
    """The broker's refusal of the capped dead-letter queue when an earlier version's, uncapped, is in use."""
    last_error: str = field(default="", repr=False)


def interval_row(result: IntervalResult, now: datetime) -> dict[str, Any]:
    """Columns of :class:`api.db.models.Interval` for ``result``: its fields (every one, None where absent)."""
    return {**message_fields(result), "updated_at": now}


def run_row(notice: RunComplete, now: datetime) -> dict[str, Any]:
    """Columns of :class:`api.db.models.RunRecord` for ``notice``."""
    return {**message_fields(notice), "completed_at": now}


@dataclass
class Parsed:
    """A batch sorted into valid results and bad messages (with the reason)."""

    intervals: list[IntervalResult] = field(default_factory=list)
    runs: list[RunComplete] = field(default_factory=list)
    bad: list[tuple[AbstractIncomingMessage, str]] = field(default_factory=list)


def parse_batch(messages: Sequence[AbstractIncomingMessage]) -> Parsed:
    """Validate each message by its routing key; anything else is bad with a reason."""
    parsed = Parsed()
    for message in messages:
        key = message.routing_key or ""
        try:
            if is_interval_key(key):
                result = parse_interval_result(message.body)
                check_meter_word(key, result.meter_id)
                parsed.intervals.append(result)
            elif is_run_key(key):
                notice = parse_run_complete(message.body)
                check_meter_word(key, notice.meter_id)
                parsed.runs.append(notice)
            else:
                parsed.bad.append((message, f"unexpected routing key {key!r}"))
        except InvalidMessage as error:
            parsed.bad.append((message, error.reason))
    return parsed


class ResultsConsumer:
    """Stores the live results and pushes them; ``on_stored(meter_starts)`` tells the live grid what changed.

    ``run()`` is a task for the service's lifetime: it connects (retrying forever, so the web
    service works without a broker), consumes, and handles batches until cancelled.
    """

    def __init__(self, amqp_url: str, db: Database, hub: Hub, queue: QueueSpec, prefetch: int = 500,
                 on_stored: Callable[[set[tuple[str, datetime]]], None] | None = None,
                 stats_interval_s: float = 5.0) -> None:
        self.amqp_url = amqp_url
        self.queue = queue
        self.db = db
        self.hub = hub
        self.prefetch = prefetch
        self.on_stored = on_stored or (lambda _changed: None)
        self.stats_interval_s = stats_interval_s
        self.state = FeedState()
        self._inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        self._connection: AbstractConnection | None = None
        self._dead_letter_exchange: aio_pika.abc.AbstractExchange | None = None

    async def run(self) -> None:
        """Connect, consume and handle batches until cancelled; connect again whenever the connection is lost."""
        try:
            await asyncio.gather(self._stay_connected(), self._handle_forever(), self._report_stats_forever())
        finally:
            if self._connection is not None:
                await self._connection.close()

    async def _stay_connected(self) -> None:
        # Not aio-pika's connect_robust: it reconnects only to the node it first reached, while
        # AMQP_URL may list a cluster's nodes (comma-separated). After a loss, the nodes are
        # tried in turn from the one after the lost node.
        nodes = [url.strip() for url in self.amqp_url.split(",") if url.strip()]
        first = 0
        while True:
            connection, channel, index = await self._connect_any(nodes, first)
            await _until_closed(connection, channel)
            # Deliveries of the lost channel cannot be acked any more; the broker redelivers them.
            dropped = 0
            while not self._inbox.empty():
                self._inbox.get_nowait()
                dropped += 1
            self.state.broker = "reconnecting"
            log.warning("broker connection to %s lost (%d unacked deliveries will come again); reconnecting",
                        _safe(nodes[index]), dropped)
            with contextlib.suppress(Exception):  # already lost; closing only releases what is left
                await connection.close()
            first = (index + 1) % len(nodes)

    async def _connect_any(self, nodes: Sequence[str], first: int
                           ) -> tuple[AbstractConnection, AbstractChannel, int]:
        """Try the nodes in turn from ``first`` until one connects and consumes, backing off between rounds."""
        delay = 0.5
        while True:
            for step in range(len(nodes)):
                index = (first + step) % len(nodes)
                try:
                    connection = await aio_pika.connect(nodes[index], timeout=CONNECT_TIMEOUT_S)
                except Exception as error:  # unreachable, refused: keep serving HTTP and try the next node
                    self.state.broker = f"unreachable: {error}"
                    log.warning("broker %s unreachable (%s)", _safe(nodes[index]), error)
                    continue
                try:
                    channel = await self._consume(connection)
                except Exception as error:  # lost while declaring: the next node
                    self.state.broker = f"unreachable: {error}"
                    log.warning("broker %s: setting up the live feed failed (%s)", _safe(nodes[index]), error)
                    with contextlib.suppress(Exception):
                        await connection.close()
                    continue
                self._connection = connection
                self.state.broker = "connected"
                log.info("consuming live results from %s (queue %s)", _safe(nodes[index]), self.queue.name)
                return connection, channel, index
            log.warning("no broker node reachable; trying again in %.1f s", delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    async def _consume(self, connection: AbstractConnection) -> AbstractChannel:
        """Declare the topology on a new channel of ``connection`` and start consuming into the inbox."""
        await self._declare_dead_letter_queue(connection)
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=self.prefetch)
        results = await channel.declare_exchange(
            RESULTS_EXCHANGE, aio_pika.ExchangeType(EXCHANGE_TYPES[RESULTS_EXCHANGE]), durable=True)
        self._dead_letter_exchange = await channel.declare_exchange(
            DEAD_LETTER_EXCHANGE, aio_pika.ExchangeType(EXCHANGE_TYPES[DEAD_LETTER_EXCHANGE]), durable=True)
        dead_letters = await channel.declare_queue(DEAD_LETTER_QUEUE, passive=True)
        await dead_letters.bind(self._dead_letter_exchange, routing_key="")
        queue = await channel.declare_queue(self.queue.name, durable=True,
                                            arguments=cast(FieldTable, self.queue.arguments))
        for key in self.queue.bindings:
            await queue.bind(results, routing_key=key)
        await queue.consume(self._inbox.put)
        return channel

    async def _declare_dead_letter_queue(self, connection: AbstractConnection) -> None:
        """Declare ``pvsim.dead_letter`` capped on a channel of its own; if the broker has an earlier version's,
        without the cap (PRECONDITION_FAILED closes that channel), use it as it is and warn once how to migrate."""
        try:
            async with connection.channel() as channel:
                await channel.declare_queue(DEAD_LETTER_QUEUE, durable=True,
                                            arguments=cast(FieldTable, DEAD_LETTER.arguments))
        except aio_pika.exceptions.ChannelPreconditionFailed as error:
            self.state.dead_letter_uncapped = str(error)
            warn_uncapped(str(error))

    async def _handle_forever(self) -> None:
        while True:
            batch = [await self._inbox.get()]
            while len(batch) < MAX_BATCH and not self._inbox.empty():
                batch.append(self._inbox.get_nowait())
            try:
                await self.handle(batch)
            except Exception:  # a bug or an unexpected refusal: retried, then dead-lettered by the delivery limit
                log.exception("handling %d live results failed; rejecting them back to the queue", len(batch))
                for message in batch:
                    await _settle(message.reject(requeue=True))

    async def handle(self, batch: Sequence[AbstractIncomingMessage]) -> None:
        """Dead-letter the bad, store the good (retrying the database), ack, then push."""
        parsed = parse_batch(batch)
        for message, reason in parsed.bad:
            await self._dead_letter(message, reason)
        now = datetime.now(UTC)
        interval_rows = [interval_row(result, now) for result in parsed.intervals]
        run_rows = [run_row(notice, now) for notice in parsed.runs]

        def store(session: Session) -> None:
            queries.upsert_intervals(session, interval_rows)
            for row in run_rows:
                queries.upsert_run(session, row)

        if interval_rows or run_rows:
            await self._commit_with_retry(store)
        await _ack(batch[-1], multiple=True)
        self.state.intervals += len(interval_rows)
        self.state.runs += len(run_rows)
        for result in parsed.intervals:
            self.hub.publish(LiveMessage.of("interval", IntervalOut.model_validate(
                interval_row(result, now)).model_dump(mode="json")))
        for notice in parsed.runs:
            self.hub.publish(LiveMessage.of("run", RunOut.model_validate(run_row(notice, now)).model_dump(mode="json")))
            log.info("run %s of %s complete (%d readings)", notice.run_id, notice.meter_id, notice.readings)
        if parsed.intervals:
            self.on_stored({(row["meter_id"], row["interval_start"]) for row in interval_rows})

    async def _commit_with_retry(self, work: Callable[[Session], None]) -> None:
        delay = 0.25
        while True:
            try:
                await asyncio.to_thread(self.db.run, work)
            except DatabaseUnavailable as error:
                if self.state.database == "ok":
                    log.error("%s: live results stay unacknowledged in RabbitMQ until it is back", error)
                self.state.database = "unavailable"
                self.state.last_error = str(error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            if self.state.database != "ok":
                log.info("database reachable again: storing live results")
                self.state.database = "ok"
            return

    async def _dead_letter(self, message: AbstractIncomingMessage, reason: str) -> None:
        assert self._dead_letter_exchange is not None
        kept, about_body = dead_letter_copy(message.body)
        headers = dict(message.headers or {})
        headers.update({REASON_HEADER: reason, ROUTING_KEY_HEADER: message.routing_key or "", **about_body})
        await self._dead_letter_exchange.publish(
            aio_pika.Message(kept, headers=cast(FieldTable, headers), content_type=message.content_type,
                             delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key="")
        self.state.dead_lettered += 1
        log.warning("dead-lettered a live result (%r): %s", message.routing_key, reason)

    async def _report_stats_forever(self) -> None:
        while True:
            await asyncio.sleep(self.stats_interval_s)
            await self._measure_queues()
            self.hub.publish(LiveMessage.of("stats", self.stats()))

    async def _measure_queues(self) -> None:
        if self._connection is None or self._connection.is_closed:
            return
        try:
            async with self._connection.channel() as channel:
                dead = await channel.declare_queue(DEAD_LETTER_QUEUE, passive=True)
                own = await channel.declare_queue(self.queue.name, passive=True)
                self.state.dead_letters = dead.declaration_result.message_count
                self.state.queue_depth = own.declaration_result.message_count
        except Exception as error:  # a passing broker hiccup must not stop the stats
            log.debug("queue depths unavailable: %s", error)

    def stats(self) -> dict[str, Any]:
        """Pipeline counts: ``dead_letters`` (messages in ``pvsim.dead_letter``), ``queue_depth`` (results
        waiting for this service), ``intervals_stored`` / ``runs_stored`` / ``dead_lettered`` since start,
        ``broker`` and ``database`` state, live ``clients``, ``dead_letter_queue`` ``capped`` or ``uncapped`` (an
        earlier version's queue in use: the log says how to migrate)."""
        return {
            "dead_letters": self.state.dead_letters, "queue_depth": self.state.queue_depth,
            "intervals_stored": self.state.intervals, "runs_stored": self.state.runs,
            "dead_lettered": self.state.dead_lettered, "broker": self.state.broker,
            "database": self.state.database, "clients": self.hub.clients,
            "dead_letter_queue": "uncapped" if self.state.dead_letter_uncapped else "capped",
        }


async def _until_closed(connection: AbstractConnection, channel: AbstractChannel) -> None:
    """Return once ``connection`` or ``channel`` closes (a channel error stops consuming too)."""
    closed = asyncio.Event()
    connection.close_callbacks.add(lambda *_args: closed.set())
    channel.close_callbacks.add(lambda *_args: closed.set())
    if not channel.is_closed:  # closed before the callbacks were in place: they will not be called
        await closed.wait()


async def _ack(message: AbstractIncomingMessage, multiple: bool) -> None:
    await _settle(message.ack(multiple=multiple))


async def _settle(settling: Awaitable[None]) -> None:
    try:
        await settling
    except Exception as error:  # channel lost meanwhile: the broker redelivers, upserts make that harmless
        log.warning("could not acknowledge (%s); the results will be redelivered", error)


def _safe(url: str) -> str:
    """``url`` without its password."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}:{parts.port or 5672}{parts.path}"
