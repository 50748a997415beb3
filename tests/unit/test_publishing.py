"""The PV simulator's results publisher on a fake channel: turns, room in flight, notices, lost channels."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import orjson
import pytest

import pv_simulator.publishing as publishing
from models.pv.reference import ReferencePv
from pv_simulator.ledger import AckLedger
from pv_simulator.publishing import ResultsPublisher
from pv_simulator.results import IntervalTracker
from pv_simulator.runs import MeterEnd, Run
from pv_simulator.writer import CsvStore
from tests.fakes import FakeChannel, FakeConnection

START = 1_782_000_000  # 2026-06-21T00:00:00Z, a multiple of 60 s


def publisher_with_due_intervals(tmp_path: Path, intervals: int) -> tuple[ResultsPublisher, FakeChannel, list[int]]:
    """A publisher on a fake channel whose last flush wrote one reading in each of ``intervals`` minutes and
    the first of the next (so they are closed and due); returns it, the channel and the turns it ran."""
    store = CsvStore(tmp_path, ZoneInfo("UTC"), ReferencePv(), 60)
    results = IntervalTracker(60)
    for k in range(intervals + 1):
        store.add("meter-1", (START + 60 * k) * 1000, 100.0)
        results.row("meter-1", START + 60 * k)
    store.write()
    ledger = AckLedger()
    ledger.delivered(intervals + 1)
    ledger.flushed_all()
    channel = FakeChannel()
    connection = FakeConnection()
    turns: list[int] = []
    link = SimpleNamespace(channel=channel, connection=connection, finished=False)
    publisher = ResultsPublisher(store, results, ledger, link, lambda: turns.append(len(channel.published)))
    publisher.take_due()
    return publisher, channel, turns


def test_the_due_results_go_out_a_turn_at_a_time_and_the_flush_waits_until_all_are_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(publishing, "RESULTS_PER_TURN", 2)
    publisher, channel, turns = publisher_with_due_intervals(tmp_path, 5)
    publisher.publish()
    assert len(channel.published) == 2 and publisher.publishing
    assert publisher.ledger.ack() is None  # the flush's deliveries wait for every result
    connection = publisher.link.connection
    while connection.ioloop.pending_turns:
        connection.ioloop.turn()
    assert turns == [4, 5] and not publisher.publishing and publisher.published == 5
    starts = [orjson.loads(p.body)["interval_start"] for p in channel.published]
    assert starts == sorted(starts) and len(set(starts)) == 5


def test_with_the_window_in_flight_full_more_results_wait_for_confirms(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(publishing, "RESULTS_PER_TURN", 2)
    monkeypatch.setattr(publishing, "RESULTS_IN_FLIGHT", 3)
    publisher, channel, _ = publisher_with_due_intervals(tmp_path, 5)
    publisher.publish()
    publisher.link.connection.ioloop.turn()
    assert len(channel.published) == 3  # the window is full: no turn is scheduled
    assert publisher.link.connection.ioloop.pending_turns == 0
    publisher.confirmed(publisher.ledger.confirmed(2, multiple=True))
    publisher.refill()  # room for a turn's worth
    assert len(channel.published) == 5


def test_results_unconfirmed_on_a_lost_channel_are_taken_again(tmp_path: Path) -> None:
    publisher, channel, _ = publisher_with_due_intervals(tmp_path, 3)
    publisher.publish()
    assert len(channel.published) == 3
    publisher.channel_lost()
    publisher.ledger.reset()
    fresh = FakeChannel()
    publisher.link.channel = fresh
    publisher.take_due()
    publisher.publish()
    assert [p.body for p in fresh.published] == [p.body for p in channel.published]


def test_a_closed_run_gets_one_notice_per_meter_and_is_complete_when_the_last_is_confirmed(tmp_path: Path) -> None:
    publisher, channel, _ = publisher_with_due_intervals(tmp_path, 0)
    meters = ("meter-1", "meter-2")
    run = Run("run-1", meters)
    for meter_id in meters:
        run.ends[meter_id] = MeterEnd("run-1", meter_id, START * 1000, START * 1000, 60, 1)
    publisher.close_run(run)
    assert publisher.waiting
    publisher.publish()
    notices = [orjson.loads(p.body) for p in channel.published if p.routing_key.endswith(".run")]
    assert [n["meter_id"] for n in notices] == list(meters) and not publisher.waiting
    last = len(channel.published)
    assert publisher.confirmed(publisher.ledger.confirmed(last - 1, multiple=True)) == []
    assert publisher.confirmed(publisher.ledger.confirmed(last, multiple=False)) == [run]
