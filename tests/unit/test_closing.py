"""The PV simulator's run closing on fakes: complete runs sorted and summarised a day per step, then done."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import pv_simulator.closing as closing
from common.clock import LocalDay
from common.schema import format_utc, parse_end_of_run
from models.pv.reference import ReferencePv
from pv_simulator.closing import RunCloser
from pv_simulator.ledger import AckLedger
from pv_simulator.publishing import ResultsPublisher
from pv_simulator.results import IntervalTracker
from pv_simulator.runs import RunTracker
from pv_simulator.writer import CsvStore
from tests.fakes import FakeChannel, FakeClock, FakeConnection

BERLIN = ZoneInfo("Europe/Berlin")
DAY = LocalDay(date(2026, 6, 21), BERLIN)


class Service:
    """What the closer asks of the service: finish, and the counters' text."""

    def __init__(self) -> None:
        self.exit_codes: list[int] = []

    def finish(self, code: int) -> None:
        self.exit_codes.append(code)


def closer_with_days(tmp_path: Path, days: int, exit_when_done: bool = True,
                     dc_capacity_kw: float | None = None) -> tuple[RunCloser, Service, FakeClock]:
    """A closer over a run of one meter whose hourly readings of ``days`` days are on disk and announced."""
    store = CsvStore(tmp_path, BERLIN, ReferencePv())
    runs = RunTracker(tmp_path / ".pvsim" / "runs", store)
    readings = 24 * days
    for k in range(readings):
        store.add("meter-1", (DAY.start_s + k * 3600) * 1000, 500.0)
    store.write()
    runs.announce(parse_end_of_run(json.dumps({
        "schema": 1, "meter_id": "meter-1", "run_id": "run-1", "meters": ["meter-1"], "readings": readings,
        "interval_s": 3600, "first_timestamp": format_utc(DAY.start_s),
        "last_timestamp": format_utc(DAY.start_s + (readings - 1) * 3600)}).encode()))
    results, ledger = IntervalTracker(store.results_interval_s), AckLedger()
    link = SimpleNamespace(channel=FakeChannel(), connection=FakeConnection(), finished=False)
    publisher = ResultsPublisher(store, results, ledger, link, lambda: None)
    service, clock = Service(), FakeClock()

    def write() -> bool:
        store.write()
        runs.save()
        return True

    closer = RunCloser(store, runs, results, ledger, publisher, link, clock, write=write, finish=service.finish,
                       summary=lambda: "counters", exit_when_done=exit_when_done, dc_capacity_kw=dc_capacity_kw)
    return closer, service, clock


def summary_of(tmp_path: Path, day: str) -> dict[str, Any]:
    return dict(json.loads((tmp_path / "meter-1" / f"{day}.summary.json").read_text()))


def test_a_complete_run_is_summarised_a_day_per_step_then_its_notices_are_due(tmp_path: Path) -> None:
    closer, _, _ = closer_with_days(tmp_path, 2, dc_capacity_kw=2.0)
    closer.work(float("inf"))  # every step fits
    assert summary_of(tmp_path, "2026-06-21")["rows"] == 24 and summary_of(tmp_path, "2026-06-22")["rows"] == 24
    assert summary_of(tmp_path, "2026-06-21")["specific_yield_kwh_per_kwp"] is not None
    assert closer.publisher.waiting  # the run's last interval and its notice


def test_a_deadline_already_passed_closes_nothing(tmp_path: Path) -> None:
    closer, _, clock = closer_with_days(tmp_path, 1)
    closer.work(clock.now)
    assert not (tmp_path / "meter-1" / "2026-06-21.summary.json").exists() and not closer.publisher.waiting


def test_a_run_whose_summary_cannot_be_written_fails_and_is_recorded(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def no_space(*_args: object) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(closing, "write_summary_json", no_space)
    closer, _, _ = closer_with_days(tmp_path, 1)
    closer.work(float("inf"))
    record = json.loads((tmp_path / ".pvsim" / "runs" / "run-1.json").read_text())
    assert "No space left on device" in record["failed"] and not closer.publisher.waiting


def test_done_finishes_only_with_exit_when_done_once_nothing_waits(tmp_path: Path) -> None:
    closer, service, _ = closer_with_days(tmp_path, 1)
    closer.work(float("inf"))
    closer.check_done()
    assert service.exit_codes == []  # the notice is still to publish
    closer.publisher.take_due()
    closer.publisher.publish()
    channel = closer.link.channel
    for run in closer.publisher.confirmed(closer.ledger.confirmed(len(channel.published), multiple=True)):
        closer.runs.record_complete(run)
    closer.check_done()
    assert service.exit_codes == [0]
    staying, kept, _ = closer_with_days(tmp_path / "other", 1, exit_when_done=False)
    staying.check_done()
    assert kept.exit_codes == []
