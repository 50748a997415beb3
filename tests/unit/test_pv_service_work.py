"""The PV simulator's periodic work (counting and closing runs), without a broker."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import pv_simulator.closing as closing
import pv_simulator.flush as flush
from common.clock import LocalDay
from common.schema import format_utc
from pv_simulator.runs import RunTracker
from pv_simulator.service import PvSimulatorService
from tests.fakes import FakeChannel
from tests.fakes.pv import pv_service, tick

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(autouse=True)
def flush_at_every_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    """No wait between two flushes, and each tick comes at the next turn of the loop: the service keeps
    the real clock, against which the run counting measures its budget per tick."""
    monkeypatch.setattr(flush, "FLUSH_INTERVAL_S", 0.0)
    monkeypatch.setattr(flush, "FLUSH_DUTY", 0.0)


def service_on(output_dir: Path, exit_when_done: bool) -> tuple[PvSimulatorService, FakeChannel]:
    return pv_service(output_dir, "Europe/Berlin", exit_when_done)


def end_body(first_s: int, readings: int, interval_s: int) -> bytes:
    return json.dumps({"schema": 1, "meter_id": "meter-1", "run_id": "run-1", "meters": ["meter-1"],
                       "readings": readings, "interval_s": interval_s, "first_timestamp": format_utc(first_s),
                       "last_timestamp": format_utc(first_s + (readings - 1) * interval_s)}).encode()


def test_a_run_complete_on_disk_at_restart_is_closed_while_the_queue_stays_idle(tmp_path: Path) -> None:
    day = LocalDay(date(2026, 6, 21), BERLIN)
    first, channel = service_on(tmp_path, exit_when_done=False)
    for k in range(24):
        first.store.add("meter-1", (day.start_s + k * 3600) * 1000, 500.0)
    channel.deliver("meter.meter-1.end", end_body(day.start_s, 24, 3600))
    first.store.write()  # rows and the run record on disk; the process dies before closing the run
    first.runs.save()
    record = tmp_path / ".pvsim" / "runs" / "run-1.json"
    assert json.loads(record.read_text())["complete"] is False

    second, channel = service_on(tmp_path, exit_when_done=True)  # restart; nothing more arrives
    tick(second, 5)
    assert "result.meter-1.run" in channel.routing_keys()
    channel.confirm()
    assert json.loads(record.read_text())["complete"] is True
    assert (tmp_path / "meter-1" / "2026-06-21.summary.json").exists()
    assert second.finished and second.exit_code == 0


def test_an_end_of_run_of_3000_days_is_counted_over_ticks_not_in_its_callback(tmp_path: Path) -> None:
    service, channel = service_on(tmp_path, exit_when_done=True)
    day = LocalDay(date(2026, 6, 21), BERLIN)
    channel.deliver("meter.meter-1.end", end_body(day.start_s, 3000 * 24, 3600))
    assert service.runs.counting  # nothing counted inside the callback
    turns = 0
    while service.runs.counting:
        tick(service)
        turns += 1
        assert turns < 1000
    assert service.runs.runs["run-1"].ends["meter-1"].remaining == 3000 * 24
    assert not service.finished


def test_a_run_whose_closing_fails_is_recorded_failed_and_the_other_run_still_completes(
    tmp_path: Path, monkeypatch: Any
) -> None:
    day = LocalDay(date(2026, 6, 21), BERLIN)
    real_write = closing.write_summary_json

    def write_summary(summary: Any, folder: Path, battery: Any = None) -> Path:
        if summary.meter_id == "meter-1":
            raise OSError(28, "No space left on device")
        return real_write(summary, folder, battery)

    monkeypatch.setattr(closing, "write_summary_json", write_summary)
    service, channel = service_on(tmp_path, exit_when_done=True)
    for n, meter_id in enumerate(("meter-1", "meter-2"), start=1):
        for k in range(24):
            service.store.add(meter_id, (day.start_s + k * 3600) * 1000, 500.0)
        body = json.loads(end_body(day.start_s, 24, 3600))
        body.update(meter_id=meter_id, run_id=f"run-{n}", meters=[meter_id])
        channel.deliver(f"meter.{meter_id}.end", json.dumps(body).encode())
    tick(service, 5)
    channel.confirm()
    runs = tmp_path / ".pvsim" / "runs"
    assert "No space left on device" in json.loads((runs / "run-1.json").read_text())["failed"]
    assert json.loads((runs / "run-2.json").read_text())["complete"] is True
    assert "result.meter-2.run" in channel.routing_keys() and "result.meter-1.run" not in channel.routing_keys()
    assert service.finished and service.exit_code == 1  # a run announced to this process failed


def test_a_run_whose_counting_fails_is_recorded_failed_and_the_service_goes_on(
    tmp_path: Path, monkeypatch: Any
) -> None:
    service, channel = service_on(tmp_path, exit_when_done=False)
    day = LocalDay(date(2026, 6, 21), BERLIN)
    channel.deliver("meter.meter-1.end", end_body(day.start_s, 24, 3600))

    def overflow(*_args: Any) -> Any:
        raise OverflowError("date value out of range")

    monkeypatch.setattr(service.store, "dates_between", overflow)
    tick(service)
    assert not service.finished and not service.runs.counting and "run-1" not in service.runs.runs
    record = json.loads((tmp_path / ".pvsim" / "runs" / "run-1.json").read_text())
    assert "OverflowError" in record["failed"]
    assert RunTracker(tmp_path / ".pvsim" / "runs", service.store).runs == {}  # a restart does not retry it
