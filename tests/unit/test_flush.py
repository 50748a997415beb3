"""The PV simulator's flush policy on a fake clock: batches by size and by time, write failures, idleness."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

import pv_simulator.flush as flush
from models.pv.reference import ReferencePv
from pv_simulator.flush import FlushPolicy
from pv_simulator.ledger import AckLedger
from pv_simulator.publishing import ResultsPublisher
from pv_simulator.results import IntervalTracker
from pv_simulator.runs import RunTracker
from pv_simulator.writer import CsvStore
from store.format import OutputError
from tests.fakes import FakeChannel, FakeClock, FakeConnection

START_MS = 1_782_000_000_000  # 2026-06-21T00:00:00Z


class Events:
    """What the policy asked of the service."""

    def __init__(self) -> None:
        self.failed: list[int] = []
        self.written = 0
        self.turns = 0
        self.takeovers = 0


def policy(tmp_path: Path, idle_exit_s: float = 0.0) -> tuple[FlushPolicy, Events, FakeClock]:
    store = CsvStore(tmp_path, ZoneInfo("UTC"), ReferencePv())
    runs = RunTracker(tmp_path / ".pvsim" / "runs", store)
    results = IntervalTracker(store.results_interval_s)
    ledger = AckLedger()
    link = SimpleNamespace(channel=FakeChannel(), connection=FakeConnection(), finished=False)
    publisher = ResultsPublisher(store, results, ledger, link, lambda: None)
    clock, events = FakeClock(), Events()

    def take_over() -> bool:
        events.takeovers += 1
        return True

    def written() -> None:
        events.written += 1

    def turn() -> None:
        events.turns += 1

    return FlushPolicy(store, runs, results, ledger, publisher, clock, fail=events.failed.append,
                       take_over=take_over, on_written=written, after_turn=turn, idle_exit_s=idle_exit_s), events, clock


def queue(flushing: FlushPolicy, rows: int, meter_id: str = "meter-1") -> None:
    """``rows`` readings delivered and queued, as the service does."""
    for k in range(rows):
        flushing.store.add(meter_id, START_MS + 1000 * (flushing.ledger.last + k), 100.0)
        flushing.queued += 1
    flushing.ledger.delivered(flushing.ledger.last + rows)


def test_the_batch_is_full_at_batch_rows_and_grows_with_many_dirty_files(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flush, "BATCH_ROWS", 4)
    monkeypatch.setattr(flush, "ROWS_PER_FILE", 2)
    flushing, _, _ = policy(tmp_path)
    queue(flushing, 3)
    assert not flushing.full()
    queue(flushing, 1)
    assert flushing.full()
    for meter in range(3):  # four dirty files: 2 rows each before a flush
        queue(flushing, 1, f"meter-{meter + 2}")
    assert flushing.batch_rows() == 8 and not flushing.full()
    queue(flushing, 1)
    assert flushing.full()


def test_a_flush_writes_everything_queued_and_counts_it(tmp_path: Path) -> None:
    flushing, events, _ = policy(tmp_path)
    queue(flushing, 5)
    flushing.flush()
    assert flushing.rows_written == 5 and flushing.queued == 0 and not flushing.store.pending
    assert flushing.ledger.flushed == 5 and events.written == 1 and events.turns == 1
    assert (tmp_path / "meter-1" / "2026-06-21.csv").read_text().count("\n") == 6


def test_a_tick_flushes_waiting_rows_at_most_every_flush_interval(tmp_path: Path) -> None:
    flushing, events, clock = policy(tmp_path)
    queue(flushing, 1)
    flushing.tick(clock.now)
    assert events.written == 1
    queue(flushing, 1)
    clock.now += flush.FLUSH_INTERVAL_S / 2
    flushing.tick(clock.now)
    assert events.written == 1  # too soon after the last flush
    clock.now += flush.FLUSH_INTERVAL_S
    flushing.tick(clock.now)
    assert events.written == 2 and flushing.rows_written == 2


def test_a_failed_write_stops_the_service_and_leaves_the_rows_unacknowledged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flushing, events, _ = policy(tmp_path)
    queue(flushing, 3)

    def full_disk() -> None:
        raise OutputError("disk full")

    monkeypatch.setattr(flushing.store, "write", full_disk)
    flushing.flush()
    assert events.failed == [1] and flushing.rows_written == 0 and flushing.ledger.flushed == 0
    assert flushing.ledger.ack() is None


def test_idle_too_long_only_with_idle_exit_and_runs_expected(tmp_path: Path) -> None:
    flushing, _, clock = policy(tmp_path, idle_exit_s=5.0)
    queue(flushing, 1)
    flushing.tick(clock.now)
    assert not flushing.idle_too_long(clock.now + 4.0)
    assert flushing.idle_too_long(clock.now + 6.0)  # no run announced yet: one is expected
    never, _, _ = policy(tmp_path / "other")
    assert not never.idle_too_long(clock.now + 1e6)


def test_an_idle_standby_looks_for_runs_another_process_recorded(tmp_path: Path) -> None:
    flushing, events, clock = policy(tmp_path)
    flushing.tick(clock.now + flush.STANDBY_SCAN_S + 1)
    assert events.takeovers == 0  # no run record on disk
