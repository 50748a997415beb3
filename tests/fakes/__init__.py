"""Stand-ins for the broker seams of the services (a pika channel, its connection and I/O loop).

A test opens a service on a :class:`FakeChannel` with :func:`open_channel`, exactly as the
broker would (confirm mode, topology, consumer), then drives it only through what the
broker does: :meth:`FakeChannel.deliver` a message, :meth:`FakeChannel.confirm` publishes,
:meth:`FakeIOLoop.turn` the I/O loop; and checks what the service did on the channel:
``acks``, ``rejects``, ``published``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pika
from pika.spec import Basic, BasicProperties

from common.amqp import AmqpService


@dataclass(frozen=True)
class Published:
    """One ``basic_publish`` on the fake channel."""

    exchange: str
    routing_key: str
    body: bytes
    properties: Any


class FakeClock:
    """A monotonic clock that moves only when the test says so (stands in for the ``time`` module)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


class FakeIOLoop:
    """The connection's I/O loop on a :class:`FakeClock`: callbacks given to ``call_later`` run when the
    test turns the loop (those due) or lets time pass (:meth:`advance`)."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock()
        self.scheduled: list[tuple[float, int, Callable[[], None]]] = []
        self._count = 0

    def call_later(self, delay: float, callback: Callable[[], None]) -> object:
        self._count += 1
        self.scheduled.append((self.clock.now + delay, self._count, callback))
        return callback

    def turn(self) -> None:
        """Run the callbacks due now (scheduled without a delay: the next turn of the loop), in order."""
        due = sorted(entry for entry in self.scheduled if entry[0] <= self.clock.now)
        self.scheduled = [entry for entry in self.scheduled if entry[0] > self.clock.now]
        for _due, _count, callback in due:
            callback()

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass, then run every callback due by then (each once), in order."""
        self.clock.now += seconds
        self.turn()

    def timers(self) -> None:
        """Run every callback scheduled so far, delayed or not, in order (as if their time had come)."""
        now, self.scheduled = sorted(self.scheduled), []
        for _due, _count, callback in now:
            callback()

    def stop(self) -> None:
        pass

    @property
    def pending_turns(self) -> int:
        """Callbacks due now (waiting for the next turn)."""
        return sum(1 for due, _, _ in self.scheduled if due <= self.clock.now)


class FakeConnection:
    """A pika ``SelectConnection`` as far as the services use it."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.is_open = True
        self.ioloop = FakeIOLoop(clock)

    def close(self) -> None:
        self.is_open = False

    def channel(self, on_open_callback: Callable[[Any], None]) -> FakeChannel:
        """Open another channel on this connection (the topology declares the dead-letter queue on one)."""
        side = FakeChannel()
        side.connection = self
        on_open_callback(side)
        return side


class FakeChannel:
    """A pika ``Channel`` in confirm mode: records what the service does, delivers and confirms on demand.

    Topology declarations succeed at once; ``queue_declare(passive=True)`` reports ``queue_depth`` messages.
    """

    def __init__(self) -> None:
        self.is_open = True
        self.connection: FakeConnection | None = None  # set by open_channel / FakeConnection.channel
        self.acks: list[tuple[int, bool]] = []
        self.rejects: list[tuple[int, bool]] = []
        self.published: list[Published] = []
        self.queue_depth = 0
        self.prefetch = 0
        self._on_message: Callable[..., None] | None = None
        self._on_confirm: Callable[[pika.frame.Method], None] | None = None
        self._next_delivery = 1

    # -- what the service calls ---------------------------------------------------------------
    def confirm_delivery(self, ack_nack_callback: Callable[[pika.frame.Method], None],
                         callback: Callable[[Any], None] | None = None) -> None:
        self._on_confirm = ack_nack_callback
        if callback is not None:
            callback(None)

    def add_on_close_callback(self, _callback: Callable[..., None]) -> None:
        pass

    def exchange_declare(self, *_args: Any, callback: Callable[[Any], None] | None = None, **_kw: Any) -> None:
        if callback is not None:
            callback(None)

    def queue_bind(self, *_args: Any, callback: Callable[[Any], None] | None = None, **_kw: Any) -> None:
        if callback is not None:
            callback(None)

    def queue_declare(self, *_args: Any, callback: Callable[[Any], None] | None = None, **_kw: Any) -> None:
        if callback is not None:
            callback(SimpleNamespace(method=SimpleNamespace(message_count=self.queue_depth)))

    def basic_qos(self, prefetch_count: int = 0, callback: Callable[[Any], None] | None = None) -> None:
        self.prefetch = prefetch_count
        if callback is not None:
            callback(None)

    def basic_consume(self, _queue: str, on_message_callback: Callable[..., None], auto_ack: bool = False) -> str:
        self._on_message = on_message_callback
        return "ctag"

    def basic_ack(self, delivery_tag: int = 0, multiple: bool = False) -> None:
        self.acks.append((delivery_tag, multiple))

    def basic_reject(self, delivery_tag: int, requeue: bool = True) -> None:
        self.rejects.append((delivery_tag, requeue))

    def basic_publish(self, exchange: str, routing_key: str, body: bytes, properties: Any = None) -> None:
        self.published.append(Published(exchange, routing_key, body, properties))

    def close(self) -> None:
        self.is_open = False

    # -- what the broker does ------------------------------------------------------------------
    def deliver(self, routing_key: str, body: bytes, redelivered: bool = False,
                properties: BasicProperties | None = None) -> int:
        """Hand the consumer the next delivery; returns its delivery tag (1, 2, ... on this channel)."""
        assert self._on_message is not None, "no consumer on this channel"
        tag = self._next_delivery
        self._next_delivery += 1
        method = Basic.Deliver(consumer_tag="ctag", delivery_tag=tag, redelivered=redelivered,
                               exchange="pvsim", routing_key=routing_key)
        self._on_message(self, method, properties or BasicProperties(), body)
        return tag

    def confirm(self, publish_tag: int | None = None, multiple: bool = True, nack: bool = False) -> None:
        """The broker confirms (or nacks) ``publish_tag`` (default: the last publish) and, if ``multiple``,
        every earlier one."""
        assert self._on_confirm is not None, "the channel is not in confirm mode"
        tag = len(self.published) if publish_tag is None else publish_tag
        reply = Basic.Nack if nack else Basic.Ack
        self._on_confirm(pika.frame.Method(1, reply(delivery_tag=tag, multiple=multiple)))

    def routing_keys(self) -> list[str]:
        """The routing keys published so far, in order."""
        return [p.routing_key for p in self.published]


def open_channel(service: AmqpService, connection: FakeConnection | None = None) -> FakeChannel:
    """Open a fresh :class:`FakeChannel` for ``service`` as its broker connection would (after a lost
    one: pass the same ``connection`` or a new one); returns it."""
    if connection is None:
        connection = service.connection if isinstance(service.connection, FakeConnection) else FakeConnection()
    connection.is_open = True
    service.connection = connection  # type: ignore[assignment]
    channel = FakeChannel()
    channel.connection = connection
    service._on_channel_open(channel)  # type: ignore[arg-type]  # the seam pika calls
    return channel


def fake_time(monkeypatch: Any, module: Any) -> FakeClock:
    """Give ``module`` a :class:`FakeClock` for its ``time`` (it must use only ``time.monotonic``); returns it."""
    clock = FakeClock()
    monkeypatch.setattr(module, "time", clock)
    return clock
