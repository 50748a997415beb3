"""The live hub: order per subscriber, topics, a slow subscriber cut off without holding up others."""

from __future__ import annotations

import asyncio

import pytest

from api.live.hub import OVERFLOW, Hub, LiveMessage


def message(n: int, type_: str = "interval") -> LiveMessage:
    return LiveMessage.of(type_, {"n": n})


def test_messages_are_encoded_once_with_their_type() -> None:
    assert message(3).text == '{"type":"interval","n":3}'


def test_each_subscriber_gets_its_topics_in_order() -> None:
    async def scenario() -> None:
        hub = Hub(buffer=100)
        everything = hub.subscribe()
        grid_only = hub.subscribe(["grid"])
        for n in range(10):
            hub.publish(message(n, "grid" if n % 3 == 0 else "interval"))
        assert [(await everything.next()).payload["n"] for _ in range(10)] == list(range(10))
        assert [(await grid_only.next()).payload["n"] for _ in range(4)] == [0, 3, 6, 9]
        assert grid_only.queue.empty()

    asyncio.run(scenario())


def test_a_subscriber_further_behind_than_its_buffer_is_cut_off_and_others_continue() -> None:
    async def scenario() -> None:
        hub = Hub(buffer=5)
        slow = hub.subscribe()
        fast = hub.subscribe()
        for n in range(20):
            hub.publish(message(n))
            assert (await fast.next()).payload["n"] == n  # never waits for the slow one
        assert slow.overflowed and hub.dropped == 1
        assert await slow.next() is OVERFLOW
        assert slow.queue.empty()

    asyncio.run(scenario())


def test_closed_subscriptions_get_nothing_and_unknown_topics_are_refused() -> None:
    async def scenario() -> None:
        hub = Hub()
        with hub.subscribe() as subscription:
            assert hub.clients == 1
        assert hub.clients == 0
        hub.publish(message(1))
        assert subscription.queue.empty()
        with pytest.raises(ValueError, match="unknown live topic"):
            hub.subscribe(["weather"])

    asyncio.run(scenario())
