"""The PV simulator acks readings only after the interval results their write closed are confirmed."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import orjson
import pytest
from pika.spec import Basic

import pv_simulator.service as service_module
from common.schema import format_utc
from models.pv.reference import ReferencePv
from pv_simulator.runs import RunTracker
from pv_simulator.service import PvSimulatorService
from pv_simulator.writer import CsvStore

START = 1_782_000_000  # 2026-06-21T00:00:00Z


class Channel:
    is_open = True

    def __init__(self) -> None:
        self.acks: list[tuple[int, bool]] = []
        self.published: list[tuple[str, str, bytes]] = []

    def basic_ack(self, tag: int, multiple: bool = False) -> None:
        self.acks.append((tag, multiple))

    def basic_publish(self, exchange: str, key: str, body: bytes, properties: object) -> None:
        self.published.append((exchange, key, body))


def deliver(service: PvSimulatorService, tag: int, epoch_s: int, redelivered: bool = False) -> None:
    body = orjson.dumps({"schema": 1, "meter_id": "meter-1", "seq": tag, "timestamp": format_utc(epoch_s),
                         "power_w": 1000.0})
    method = SimpleNamespace(delivery_tag=tag, routing_key="meter.meter-1.reading", redelivered=redelivered)
    service._on_message(service.channel, method, None, body)  # type: ignore[arg-type]


def confirm(service: PvSimulatorService, tag: int) -> None:
    service._on_confirm(SimpleNamespace(method=Basic.Ack(delivery_tag=tag, multiple=True)))  # type: ignore[arg-type]


def service_on(tmp_path: Path) -> tuple[PvSimulatorService, Channel]:
    store = CsvStore(tmp_path, ZoneInfo("UTC"), ReferencePv())
    service = PvSimulatorService(store, RunTracker(tmp_path / "runs", store), "amqp://x", 1.0, exit_when_done=False)
    channel = Channel()
    service.channel = channel  # type: ignore[assignment]
    return service, channel


def test_readings_whose_write_closed_an_interval_wait_for_its_confirm(tmp_path: Path) -> None:
    service, channel = service_on(tmp_path)
    for tag, second in enumerate(range(60), start=1):
        deliver(service, tag, START + second)
    service._flush()  # the interval is still open: nothing published, everything acked
    assert channel.published == [] and channel.acks == [(60, True)]
    deliver(service, 61, START + 60)
    deliver(service, 62, START + 61)
    service._flush()  # the write closed interval 0: published after the fsync, acks held
    assert [key for _, key, _ in channel.published] == ["result.meter-1.interval"]
    assert orjson.loads(channel.published[0][2])["readings"] == 60
    assert channel.acks == [(60, True)]
    confirm(service, 1)
    assert channel.acks[-1] == (62, True)


def test_unconfirmed_results_of_a_lost_channel_are_published_again(tmp_path: Path) -> None:
    service, channel = service_on(tmp_path)
    for tag, second in enumerate(range(61), start=1):
        deliver(service, tag, START + second)
    service._flush()
    assert len(channel.published) == 1
    service.on_connection_lost()
    service.on_channel_open = lambda _channel: None  # type: ignore[method-assign]
    fresh = Channel()
    service.channel = fresh  # type: ignore[assignment]
    service.ledger.reset()
    deliver(service, 1, START + 60, redelivered=True)  # a duplicate now; the next channel's first delivery
    service._flush()
    assert [orjson.loads(body)["interval_start"] for _, _, body in fresh.published] == ["2026-06-21T00:00:00Z"]


def test_a_new_process_republishes_the_interval_before_its_first_reading(tmp_path: Path) -> None:
    first, _ = service_on(tmp_path)
    for tag, second in enumerate(range(61), start=1):
        deliver(first, tag, START + second)
    first.store.write()  # the crash came after the fsync, before the result was confirmed
    second, channel = service_on(tmp_path)
    deliver(second, 1, START + 60, redelivered=True)  # redelivered: a duplicate
    deliver(second, 2, START + 61)
    second._flush()
    assert [orjson.loads(body)["readings"] for _, _, body in channel.published] == [60]


def run_two_meters(service: PvSimulatorService, meters: list[str]) -> None:
    """One reading per meter, each meter's end of run, then the run is closed and its results published."""
    for tag, meter_id in enumerate(meters, start=1):
        body = orjson.dumps({"schema": 1, "meter_id": meter_id, "seq": 0, "timestamp": format_utc(START),
                             "power_w": 1.0})
        service._on_message(service.channel, SimpleNamespace(  # type: ignore[arg-type]
            delivery_tag=tag, routing_key=f"meter.{meter_id}.reading", redelivered=False), None, body)
    for tag, meter_id in enumerate(meters, start=3):
        end = orjson.dumps({"schema": 1, "meter_id": meter_id, "run_id": "run-1", "meters": meters, "readings": 1,
                            "interval_s": 60, "first_timestamp": format_utc(START),
                            "last_timestamp": format_utc(START)})
        service._on_message(service.channel, SimpleNamespace(  # type: ignore[arg-type]
            delivery_tag=tag, routing_key=f"meter.{meter_id}.end", redelivered=False), None, end)
    service._flush()
    service._run_work(float("inf"))  # closes the run: both last intervals, then a notice per meter
    service._flush()


def test_a_run_is_recorded_complete_once_every_meter_notice_is_confirmed_even_across_a_lost_channel(
        tmp_path: Path) -> None:
    service, channel = service_on(tmp_path)
    meters = ["meter-1", "meter-2"]
    run_two_meters(service, meters)
    notices = [orjson.loads(body) for _, key, body in channel.published if key.endswith(".run")]
    assert [n["meter_id"] for n in notices] == meters and all(n["meters"] == meters for n in notices)
    run = service.runs.closing["run-1"]
    confirm(service, service.ledger.publish_tag - 1)  # the first notice only
    assert not run.closed
    service.on_connection_lost()  # the second notice is published again on the next channel
    fresh = Channel()
    service.channel = fresh  # type: ignore[assignment]
    service.ledger.reset()
    service._flush()
    assert [orjson.loads(body)["meter_id"] for _, key, body in fresh.published if key.endswith(".run")] == [
        "meter-2"]
    assert not run.closed
    confirm(service, service.ledger.publish_tag)
    assert run.closed


def test_run_complete_notices_beyond_the_byte_budget_wait_for_the_next_flush(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_module, "NOTICE_BYTES_PER_FLUSH", 1)  # one notice per flush
    service, channel = service_on(tmp_path)
    run_two_meters(service, ["meter-1", "meter-2"])
    run = service.runs.closing["run-1"]
    assert [key for _, key, _ in channel.published if key.endswith(".run")] == ["result.meter-1.run"]
    confirm(service, service.ledger.publish_tag)
    assert not run.closed
    service._flush()
    assert [key for _, key, _ in channel.published if key.endswith(".run")] == [
        "result.meter-1.run", "result.meter-2.run"]
    confirm(service, service.ledger.publish_tag)
    assert run.closed


def test_after_publishing_a_write_that_closed_many_intervals_the_day_file_keeps_only_recent_sums(
        tmp_path: Path) -> None:
    service, channel = service_on(tmp_path)
    for tag in range(1, 201):  # 200 readings a minute apart: the write closes 199 intervals
        deliver(service, tag, START + 60 * (tag - 1))
    service._flush()
    assert [orjson.loads(body)["readings"] for _, _, body in channel.published] == [1] * 199
    intervals = service.store.day_file("meter-1", START).intervals
    assert not intervals.wide and intervals.get(START) is None
    deliver(service, 201, START + 30)  # late: its interval is counted from the file
    deliver(service, 202, START + 60 * 200)
    service._flush()
    assert orjson.loads(channel.published[-1][2])["interval_start"] == format_utc(START + 60 * 199)
    late = [orjson.loads(body) for _, _, body in channel.published[199:]]
    assert {(r["interval_start"], r["readings"]) for r in late} == {
        (format_utc(START), 2), (format_utc(START + 60 * 199), 1)}


class Loop:
    """An I/O loop stand-in: callbacks scheduled with ``call_later`` run when the test says so."""

    def __init__(self) -> None:
        self.scheduled: list[object] = []

    def call_later(self, _delay: float, callback: object) -> None:
        self.scheduled.append(callback)

    def turn(self) -> None:
        scheduled, self.scheduled = self.scheduled, []
        for callback in scheduled:
            callback()  # type: ignore[operator]


def five_closed_intervals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                          ) -> tuple[PvSimulatorService, Channel, Loop]:
    """A service whose flush of 6 readings a minute apart closed 5 intervals, 2 published per turn."""
    monkeypatch.setattr(service_module, "RESULTS_PER_TURN", 2)
    service, channel = service_on(tmp_path)
    loop = Loop()
    service.connection = SimpleNamespace(ioloop=loop, is_open=True, close=lambda: None)  # type: ignore[assignment]
    for tag in range(1, 7):
        deliver(service, tag, START + 60 * (tag - 1))
    service._flush()
    return service, channel, loop


def test_a_flush_that_closed_many_intervals_publishes_them_a_turn_at_a_time_and_acks_after_all(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    service, channel, loop = five_closed_intervals(tmp_path, monkeypatch)
    assert len(channel.published) == 2 and len(loop.scheduled) == 1  # the rest on the next turns
    confirm(service, 2)
    assert channel.acks == []  # the flush's deliveries wait for all five results
    deliver(service, 7, START + 360)
    service._flush()  # waits for the last flush's results: writes nothing, publishes nothing new
    assert len(channel.published) == 2 and service.store.pending
    loop.turn()
    assert len(channel.published) == 4 and channel.acks == []
    loop.turn()
    assert [orjson.loads(body)["interval_start"] for _, _, body in channel.published] == [
        format_utc(START + 60 * n) for n in range(5)]
    assert loop.scheduled == [] and channel.acks == []
    confirm(service, 5)
    assert channel.acks == [(6, True)]  # delivery 7 is not written yet
    service._flush()
    assert len(channel.published) == 6 and channel.acks[-1] == (6, True)  # 7 closed interval 5: held
    confirm(service, 6)
    assert channel.acks[-1] == (7, True)


def test_results_still_to_publish_when_the_channel_is_lost_are_published_on_the_next_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    service, channel, loop = five_closed_intervals(tmp_path, monkeypatch)
    service.on_connection_lost()
    fresh = Channel()
    service.channel = fresh  # type: ignore[assignment]
    service.ledger.reset()
    loop.turn()  # the lost channel's turn: publishes nothing
    assert len(channel.published) == 2 and fresh.published == []
    service._flush()
    loop.turn()
    loop.turn()
    assert sorted(orjson.loads(body)["interval_start"] for _, _, body in fresh.published) == [
        format_utc(START + 60 * n) for n in range(5)]


def test_a_stop_publishes_every_result_of_the_last_flush_before_the_final_write(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    service, channel, _loop = five_closed_intervals(tmp_path, monkeypatch)
    deliver(service, 7, START + 360)
    service.on_stop_requested()
    assert [orjson.loads(body)["interval_start"] for _, _, body in channel.published][:5] == [
        format_utc(START + 60 * n) for n in range(5)]
    assert not service.store.pending and service.finished


def test_results_beyond_the_in_flight_limit_go_out_as_confirms_come_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_module, "RESULTS_IN_FLIGHT", 3)
    service, channel, loop = five_closed_intervals(tmp_path, monkeypatch)
    assert len(channel.published) == 2
    loop.turn()
    assert len(channel.published) == 3 and loop.scheduled == []  # 3 unconfirmed: the rest waits for confirms
    confirm(service, 2)
    assert len(channel.published) == 5 and channel.acks == []
    confirm(service, 5)
    assert channel.acks == [(6, True)]
    assert [orjson.loads(body)["interval_start"] for _, _, body in channel.published] == [
        format_utc(START + 60 * n) for n in range(5)]


def test_a_turn_scheduled_on_a_lost_connection_does_not_hold_back_the_next_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    service, _channel, loop = five_closed_intervals(tmp_path, monkeypatch)
    service.on_connection_lost()  # its loop, with the scheduled turn, is gone
    loop.scheduled.clear()
    fresh = Channel()
    service.channel = fresh  # type: ignore[assignment]
    service.ledger.reset()
    service._flush()
    assert len(fresh.published) == 2 and len(loop.scheduled) == 1


def test_a_flush_starts_once_enough_new_day_files_wait_to_be_created(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_module, "NEW_FILES_PER_FLUSH", 2)
    service, channel = service_on(tmp_path)
    for tag, meter_id in enumerate(["meter-1", "meter-2", "meter-3"], start=1):
        body = orjson.dumps({"schema": 1, "meter_id": meter_id, "seq": 0, "timestamp": format_utc(START),
                             "power_w": 1.0})
        service._on_message(service.channel, SimpleNamespace(  # type: ignore[arg-type]
            delivery_tag=tag, routing_key=f"meter.{meter_id}.reading", redelivered=False), None, body)
        if tag == 1:
            assert channel.acks == [] and service.store.new_dirty_files == 1
    # the second new file started a flush: both on disk and acked; the third waits for the next one
    assert channel.acks == [(2, True)]
    assert sorted(p.parent.name for p in tmp_path.glob("meter-*/*.csv")) == ["meter-1", "meter-2"]
    assert service.store.new_dirty_files == 1
