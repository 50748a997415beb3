"""Fan-out of stored results to live clients, each with its own bounded buffer.

Publishing never waits: a message is encoded once and put into every subscriber's queue
without blocking. A subscriber whose queue is full (a slow or dead client) is cut off: its
queue is emptied and closed with :data:`OVERFLOW`, so the client learns it missed messages
instead of silently skipping some, and nobody else waits for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

log = logging.getLogger(__name__)

TOPICS = ("interval", "grid", "run", "simulation", "stats", "progress")
"""Kinds of live message; every pushed JSON object carries its kind in ``type``."""


@dataclass(frozen=True)
class LiveMessage:
    """One pushed message: its ``type``, the payload (JSON-ready dict) and the encoded JSON object."""

    type: str
    payload: dict[str, Any]
    text: str = field(repr=False)

    @classmethod
    def of(cls, type_: str, payload: dict[str, Any]) -> LiveMessage:
        """Encode ``{"type": type_, **payload}`` once for every client."""
        return cls(type_, payload, orjson.dumps({"type": type_, **payload}).decode())


class ClientSlots:
    """At most ``limit`` live clients at once (one event loop: no lock needed)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.taken = 0

    def take(self) -> bool:
        """Take a slot; ``False`` when all ``limit`` are taken."""
        if self.taken >= self.limit:
            return False
        self.taken += 1
        return True

    def give_back(self) -> None:
        """Free a slot taken by :meth:`take`."""
        self.taken -= 1


OVERFLOW = LiveMessage("overflow", {}, "")
"""Put into a subscriber's queue after it fell more than its buffer behind: the last item it gets."""


class Subscription:
    """A client's view of the hub: ``await next()`` gives messages of its topics in publishing order."""

    def __init__(self, hub: Hub, topics: frozenset[str], buffer: int) -> None:
        self.hub = hub
        self.topics = topics
        self.queue: asyncio.Queue[LiveMessage] = asyncio.Queue(maxsize=buffer)
        self.overflowed = False

    def offer(self, message: LiveMessage) -> None:
        """Queue ``message`` without waiting; on a full buffer cut the subscriber off."""
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(OVERFLOW)
            self.hub.dropped += 1
            log.warning("live client more than %d messages behind: disconnecting it", self.queue.maxsize)

    async def next(self) -> LiveMessage:
        """The next message (:data:`OVERFLOW` once the subscriber was cut off)."""
        return await self.queue.get()

    def close(self) -> None:
        """Stop receiving messages."""
        self.hub.unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class Hub:
    """Subscribers by topic; :meth:`publish` hands a message to each without waiting.

    ``buffer`` is the number of messages each subscriber may fall behind before it is cut off.
    Use from the event loop's thread only.
    """

    def __init__(self, buffer: int = 4096) -> None:
        self.buffer = buffer
        self._subscribers: set[Subscription] = set()
        self.published = 0
        self.dropped = 0

    def subscribe(self, topics: Iterable[str] = TOPICS) -> Subscription:
        """A new subscription to ``topics``; subscribe before reading current values so nothing slips."""
        wanted = frozenset(topics)
        unknown = wanted - set(TOPICS)
        if unknown:
            raise ValueError(f"unknown live topic(s) {sorted(unknown)}; known: {', '.join(TOPICS)}")
        subscription = Subscription(self, wanted, self.buffer)
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget ``subscription`` (idempotent)."""
        self._subscribers.discard(subscription)

    def publish(self, message: LiveMessage) -> None:
        """Hand ``message`` to every subscriber of its type, in order, without waiting."""
        self.published += 1
        for subscription in tuple(self._subscribers):
            if message.type in subscription.topics:
                subscription.offer(message)

    @property
    def clients(self) -> int:
        """Subscribers connected now."""
        return len(self._subscribers)
