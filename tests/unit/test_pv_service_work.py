"""The PV simulator's periodic work (counting and closing runs), without a broker."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pika
from pika.spec import Basic

from common.clock import LocalDay
from common.schema import format_utc
from models.pv.reference import ReferencePv
from pv_simulator.runs import RunTracker
from pv_simulator.service import PvSimulatorService
from pv_simulator.writer import CsvStore
from tests.unit.test_acks import FakeChannel as AckingChannel

BERLIN = ZoneInfo("Europe/Berlin")


class FakeChannel(AckingChannel):
    def __init__(self) -> None:
        super().__init__()
        self.published: list[tuple[str, str]] = []

    def basic_publish(self, exchange: str, routing_key: str, body: bytes, properties: Any = None) -> None:
        self.published.append((exchange, routing_key))


def confirm_all(service: PvSimulatorService) -> None:
    """The broker confirms every publish so far (results, notices)."""
    frame = pika.frame.Method(1, Basic.Ack(delivery_tag=service._publish_tag, multiple=True))
    service._on_confirm(frame)


class FakeIOLoop:
    def __init__(self) -> None:
        self.timers: list[Any] = []

    def call_later(self, delay: float, callback: Any) -> None:
        self.timers.append(callback)


class FakeConnection:
    is_open = True

    def __init__(self) -> None:
        self.ioloop = FakeIOLoop()

    def close(self) -> None:
        self.is_open = False


def service_on(output_dir: Path, exit_when_done: bool) -> PvSimulatorService:
    store = CsvStore(output_dir, BERLIN, ReferencePv())
    service = PvSimulatorService(store, RunTracker(output_dir / ".pvsim" / "runs", store), "amqp://x", 1.0,
                                 exit_when_done=exit_when_done)
    service.channel = FakeChannel()  # type: ignore[assignment]
    service.connection = FakeConnection()  # type: ignore[assignment]
    return service


def end_body(first_s: int, readings: int, interval_s: int) -> bytes:
    return json.dumps({"schema": 1, "meter_id": "meter-1", "run_id": "run-1", "meters": ["meter-1"],
                       "readings": readings, "interval_s": interval_s, "first_timestamp": format_utc(first_s),
                       "last_timestamp": format_utc(first_s + (readings - 1) * interval_s)}).encode()


def deliver(service: PvSimulatorService, tag: int, key: str, body: bytes) -> None:
    method = Basic.Deliver(delivery_tag=tag, routing_key=key)
    service._on_message(service.channel, method, pika.BasicProperties(), body)  # type: ignore[arg-type]


def test_a_run_complete_on_disk_at_restart_is_closed_while_the_queue_stays_idle(tmp_path: Path) -> None:
    day = LocalDay(date(2026, 6, 21), BERLIN)
    first = service_on(tmp_path, exit_when_done=False)
    for k in range(24):
        first.store.add("meter-1", (day.start_s + k * 3600) * 1000, 500.0)
    deliver(first, 1, "meter.meter-1.end", end_body(day.start_s, 24, 3600))
    first._write_or_fail()  # rows and the run record on disk; the process dies before closing the run
    record = tmp_path / ".pvsim" / "runs" / "run-1.json"
    assert json.loads(record.read_text())["complete"] is False

    second = service_on(tmp_path, exit_when_done=True)  # restart; nothing more arrives
    for _ in range(5):
        second._tick()
        second._flushed_at = 0.0  # no wall-clock wait between the fake ticks
    assert ("pvsim.results", "result.meter-1.run") in second.channel.published  # type: ignore[union-attr]
    confirm_all(second)
    assert json.loads(record.read_text())["complete"] is True
    assert (tmp_path / "meter-1" / "2026-06-21.summary.json").exists()
    assert second.finished and second.exit_code == 0


def test_an_end_of_run_of_3000_days_is_counted_over_ticks_not_in_its_callback(tmp_path: Path) -> None:
    service = service_on(tmp_path, exit_when_done=True)
    day = LocalDay(date(2026, 6, 21), BERLIN)
    deliver(service, 1, "meter.meter-1.end", end_body(day.start_s, 3000 * 24, 3600))
    assert service.runs.counting  # nothing counted inside the callback
    ticks = 0
    while service.runs.counting:
        service._tick()
        service._flushed_at = 0.0
        ticks += 1
        assert ticks < 1000
    assert service.runs.runs["run-1"].ends["meter-1"].remaining == 3000 * 24
    assert not service.finished


def test_a_run_whose_closing_fails_is_recorded_failed_and_the_other_run_still_completes(
    tmp_path: Path, monkeypatch: Any
) -> None:
    import pv_simulator.service as service_module

    day = LocalDay(date(2026, 6, 21), BERLIN)
    real_write = service_module.write_summary_json

    def write_summary(summary: Any, folder: Path) -> Path:
        if summary.meter_id == "meter-1":
            raise OSError(28, "No space left on device")
        return real_write(summary, folder)

    monkeypatch.setattr(service_module, "write_summary_json", write_summary)
    service = service_on(tmp_path, exit_when_done=True)
    for n, meter_id in enumerate(("meter-1", "meter-2"), start=1):
        for k in range(24):
            service.store.add(meter_id, (day.start_s + k * 3600) * 1000, 500.0)
        body = json.loads(end_body(day.start_s, 24, 3600))
        body.update(meter_id=meter_id, run_id=f"run-{n}", meters=[meter_id])
        deliver(service, n, f"meter.{meter_id}.end", json.dumps(body).encode())
    for _ in range(5):
        service._tick()
        service._flushed_at = 0.0
    confirm_all(service)
    runs = tmp_path / ".pvsim" / "runs"
    assert "No space left on device" in json.loads((runs / "run-1.json").read_text())["failed"]
    assert json.loads((runs / "run-2.json").read_text())["complete"] is True
    published = service.channel.published  # type: ignore[union-attr]
    assert ("pvsim.results", "result.meter-2.run") in published
    assert ("pvsim.results", "result.meter-1.run") not in published
    assert service.finished and service.exit_code == 1  # a run announced to this process failed


def test_a_run_whose_counting_fails_is_recorded_failed_and_the_service_goes_on(
    tmp_path: Path, monkeypatch: Any
) -> None:
    service = service_on(tmp_path, exit_when_done=False)
    day = LocalDay(date(2026, 6, 21), BERLIN)
    deliver(service, 1, "meter.meter-1.end", end_body(day.start_s, 24, 3600))

    def overflow(*_args: Any) -> Any:
        raise OverflowError("date value out of range")

    monkeypatch.setattr(service.store, "dates_between", overflow)
    service._tick()
    assert not service.finished and not service.runs.counting and "run-1" not in service.runs.runs
    record = json.loads((tmp_path / ".pvsim" / "runs" / "run-1.json").read_text())
    assert "OverflowError" in record["failed"]
    assert RunTracker(tmp_path / ".pvsim" / "runs", service.store).runs == {}  # a restart does not retry it
