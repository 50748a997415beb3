"""Test helpers for the live results feed: a queue on ``pvsim.results`` and the check against the CSV."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pika
import pytest
from pika.adapters.blocking_connection import BlockingChannel

from common import topology
from common.amqp import node_parameters
from common.schema import IntervalResult, format_utc, parse_interval_result
from tests.expect import read_day


class ResultsQueue:
    """A durable queue bound to every message on ``pvsim.results`` (declare it before the services start).

    Each call opens its own short connection, so a long run in between needs no heartbeats.
    """

    def __init__(self, amqp_url: str, name: str = "test.results", quorum: bool = False) -> None:
        self.amqp_url = amqp_url
        self.name = name
        with self._channel() as channel:
            channel.exchange_declare(topology.RESULTS_EXCHANGE, "topic", durable=True)
            channel.queue_declare(name, durable=True, arguments={"x-queue-type": "quorum"} if quorum else None)
            channel.queue_bind(name, topology.RESULTS_EXCHANGE, "result.#")

    @contextmanager
    def _channel(self) -> Iterator[BlockingChannel]:
        connection = pika.BlockingConnection(node_parameters(self.amqp_url))
        try:
            yield connection.channel()
        finally:
            if connection.is_open:
                connection.close()

    def drain(self, wait_s: float = 0.0, at_least: int = 1) -> list[tuple[str, bytes]]:
        """Every message queued now, waiting up to ``wait_s`` for ``at_least``: (routing key, body)."""
        got: list[tuple[str, bytes]] = []
        deadline = time.monotonic() + wait_s
        with self._channel() as channel:
            while True:
                method, _properties, body = channel.basic_get(self.name, auto_ack=True)
                if method is None:
                    if len(got) >= at_least or time.monotonic() >= deadline:
                        return got
                    time.sleep(0.05)
                    continue
                got.append((method.routing_key, body))


def csv_interval_means(path: Path, interval_s: int) -> pd.DataFrame:
    """Count and mean powers [kW] of a day CSV's rows per interval, indexed by interval start [epoch s]."""
    frame = read_day(path)
    epoch = (frame["utc"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
    frame["start"] = epoch - epoch % interval_s
    columns = ["meter_power_kw", "pv_power_kw", "net_power_kw"]
    means = frame.groupby("start")[columns].mean()
    means["readings"] = frame.groupby("start").size()
    return means


def latest_results(messages: list[tuple[str, bytes]], meter_id: str) -> dict[int, IntervalResult]:
    """The last interval result of a meter per interval start, as consumers upsert them."""
    latest = {}
    for key, body in messages:
        if key == topology.interval_routing_key(meter_id):
            result = parse_interval_result(body)
            latest[int(result.interval_start.timestamp())] = result
    return latest


def assert_results_equal_csv(messages: list[tuple[str, bytes]], csv: Path, meter_id: str, interval_s: int) -> int:
    expected = csv_interval_means(csv, interval_s)
    latest = latest_results(messages, meter_id)
    missing = sorted(set(expected.index) - set(latest))
    extra = sorted(set(latest) - set(expected.index))
    assert not missing and not extra, (
        f"intervals published != intervals in the CSV: missing {[format_utc(int(s)) for s in missing]}, "
        f"extra {[format_utc(int(s)) for s in extra]}")
    for start, row in expected.iterrows():
        result = latest[int(start)]
        assert result.readings == row["readings"], format_utc(int(start))
        assert result.meter_power_kw == pytest.approx(row["meter_power_kw"], abs=1e-6)
        assert result.pv_power_kw == pytest.approx(row["pv_power_kw"], abs=1e-6)
        assert result.net_power_kw == pytest.approx(row["net_power_kw"], abs=1e-6)
    return len(latest)
