"""The PV simulator acks readings only after the interval results their write closed are confirmed."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

import pv_simulator.flush as flush
import pv_simulator.publishing as publishing
import pv_simulator.service as service_module
from common.schema import format_utc
from pv_simulator.service import PvSimulatorService
from tests.fakes import FakeChannel, FakeClock, FakeConnection, FakeIOLoop, fake_time
from tests.fakes.pv import pv_service, reconnect, tick

START = 1_782_000_000  # 2026-06-21T00:00:00Z


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The service's clock: time passes only in :func:`tick` (and the fake I/O loops run on it)."""
    return fake_time(monkeypatch, service_module)


def deliver(channel: FakeChannel, epoch_s: int, redelivered: bool = False, meter_id: str = "meter-1",
            power_w: float = 1000.0) -> int:
    body = orjson.dumps({"schema": 1, "meter_id": meter_id, "seq": 0, "timestamp": format_utc(epoch_s),
                         "power_w": power_w})
    return channel.deliver(f"meter.{meter_id}.reading", body, redelivered)


def bodies(channel: FakeChannel, field: str) -> list[object]:
    """``field`` of every result published on ``channel``."""
    return [orjson.loads(p.body)[field] for p in channel.published]


def test_readings_whose_write_closed_an_interval_wait_for_its_confirm(tmp_path: Path) -> None:
    service, channel = pv_service(tmp_path)
    for second in range(60):
        deliver(channel, START + second)
    tick(service)  # the interval is still open: nothing published, everything acked
    assert channel.published == [] and channel.acks == [(60, True)]
    deliver(channel, START + 60)
    deliver(channel, START + 61)
    tick(service)  # the write closed interval 0: published after the fsync, acks held
    assert channel.routing_keys() == ["result.meter-1.interval"]
    assert bodies(channel, "readings") == [60]
    assert channel.acks == [(60, True)]
    channel.confirm(1)
    assert channel.acks[-1] == (62, True)


def test_unconfirmed_results_of_a_lost_channel_are_published_again(tmp_path: Path) -> None:
    service, channel = pv_service(tmp_path)
    for second in range(61):
        deliver(channel, START + second)
    tick(service)
    assert len(channel.published) == 1
    fresh = reconnect(service)
    deliver(fresh, START + 60, redelivered=True)  # a duplicate now; the next channel's first delivery
    tick(service)
    assert bodies(fresh, "interval_start") == ["2026-06-21T00:00:00Z"]


def test_a_new_process_republishes_the_interval_before_its_first_reading(tmp_path: Path) -> None:
    first, channel = pv_service(tmp_path)
    for second in range(61):
        deliver(channel, START + second)
    first.store.write()  # the crash came after the fsync, before the result was confirmed
    second, channel = pv_service(tmp_path)
    deliver(channel, START + 60, redelivered=True)  # redelivered: a duplicate
    deliver(channel, START + 61)
    tick(second)
    assert bodies(channel, "readings") == [60]


def run_two_meters(service: PvSimulatorService, channel: FakeChannel, meters: list[str]) -> None:
    """One reading per meter, each meter's end of run, then the run is closed and its results published."""
    for meter_id in meters:
        deliver(channel, START, meter_id=meter_id, power_w=1.0)
    for meter_id in meters:
        end = orjson.dumps({"schema": 1, "meter_id": meter_id, "run_id": "run-1", "meters": meters, "readings": 1,
                            "interval_s": 60, "first_timestamp": format_utc(START),
                            "last_timestamp": format_utc(START)})
        channel.deliver(f"meter.{meter_id}.end", end)
    for _ in range(5):  # write the rows and the ends, count and close the run, publish its results (both last
        tick(service)  # intervals, then its notices), a tick at a time until the first notices are out
        if notices(channel):
            break


def notices(channel: FakeChannel) -> list[dict[str, object]]:
    return [orjson.loads(p.body) for p in channel.published if p.routing_key.endswith(".run")]


def test_a_run_is_recorded_complete_once_every_meter_notice_is_confirmed_even_across_a_lost_channel(
        tmp_path: Path) -> None:
    service, channel = pv_service(tmp_path)
    meters = ["meter-1", "meter-2"]
    run_two_meters(service, channel, meters)
    assert [n["meter_id"] for n in notices(channel)] == meters and all(n["meters"] == meters for n in notices(channel))
    run = service.runs.closing["run-1"]
    channel.confirm(len(channel.published) - 1)  # the first notice only
    assert not run.closed
    fresh = reconnect(service)  # the second notice is published again on the next channel
    tick(service)
    assert [n["meter_id"] for n in notices(fresh)] == ["meter-2"]
    assert not run.closed
    fresh.confirm()
    assert run.closed


def test_run_complete_notices_beyond_the_byte_budget_wait_for_the_next_flush(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(publishing, "NOTICE_BYTES_PER_FLUSH", 1)  # one notice per flush
    service, channel = pv_service(tmp_path)
    run_two_meters(service, channel, ["meter-1", "meter-2"])
    run = service.runs.closing["run-1"]
    assert [n["meter_id"] for n in notices(channel)] == ["meter-1"]
    channel.confirm()
    assert not run.closed
    tick(service)
    assert [n["meter_id"] for n in notices(channel)] == ["meter-1", "meter-2"]
    channel.confirm()
    assert run.closed


def test_after_publishing_a_write_that_closed_many_intervals_the_day_file_keeps_only_recent_sums(
        tmp_path: Path) -> None:
    service, channel = pv_service(tmp_path)
    for minute in range(200):  # 200 readings a minute apart: the write closes 199 intervals
        deliver(channel, START + 60 * minute)
    tick(service)
    assert bodies(channel, "readings") == [1] * 199
    intervals = service.store.day_file("meter-1", START).intervals
    assert not intervals.wide and intervals.get(START) is None
    deliver(channel, START + 30)  # late: its interval is counted from the file
    deliver(channel, START + 60 * 200)
    tick(service)
    assert bodies(channel, "interval_start")[-1] == format_utc(START + 60 * 199)
    late = [orjson.loads(p.body) for p in channel.published[199:]]
    assert {(r["interval_start"], r["readings"]) for r in late} == {
        (format_utc(START), 2), (format_utc(START + 60 * 199), 1)}


def five_closed_intervals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                          ) -> tuple[PvSimulatorService, FakeChannel, FakeIOLoop]:
    """A service whose flush of 6 readings a minute apart closed 5 intervals, 2 published per turn."""
    monkeypatch.setattr(publishing, "RESULTS_PER_TURN", 2)
    service, channel = pv_service(tmp_path)
    for minute in range(6):
        deliver(channel, START + 60 * minute)
    tick(service)
    assert isinstance(service.connection, FakeConnection)
    return service, channel, service.connection.ioloop


def test_a_flush_that_closed_many_intervals_publishes_them_a_turn_at_a_time_and_acks_after_all(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    service, channel, loop = five_closed_intervals(tmp_path, monkeypatch)
    assert len(channel.published) == 2 and loop.pending_turns == 1  # the rest on the next turns
    channel.confirm(2)
    assert channel.acks == []  # the flush's deliveries wait for all five results
    deliver(channel, START + 360)
    tick(service)  # the next turn comes first; the tick's flush waits for the last flush's results
    assert len(channel.published) == 4 and channel.acks == [] and service.store.pending
    loop.turn()
    assert bodies(channel, "interval_start") == [format_utc(START + 60 * n) for n in range(5)]
    assert loop.pending_turns == 0 and channel.acks == []
    channel.confirm(5)
    assert channel.acks == [(6, True)]  # delivery 7 is not written yet
    tick(service)
    assert len(channel.published) == 6 and channel.acks[-1] == (6, True)  # 7 closed interval 5: held
    channel.confirm(6)
    assert channel.acks[-1] == (7, True)


def test_results_still_to_publish_when_the_channel_is_lost_are_published_on_the_next_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    service, channel, loop = five_closed_intervals(tmp_path, monkeypatch)
    fresh = reconnect(service)
    loop.turn()  # the lost channel's turn: publishes nothing
    assert len(channel.published) == 2 and fresh.published == []
    tick(service)
    new_loop = service.connection.ioloop  # type: ignore[union-attr]
    new_loop.turn()
    new_loop.turn()
    assert sorted(bodies(fresh, "interval_start")) == [  # type: ignore[type-var]
        format_utc(START + 60 * n) for n in range(5)]


def test_a_stop_publishes_every_result_of_the_last_flush_before_the_final_write(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    service, channel, _loop = five_closed_intervals(tmp_path, monkeypatch)
    deliver(channel, START + 360)
    service.on_stop_requested()
    assert bodies(channel, "interval_start")[:5] == [format_utc(START + 60 * n) for n in range(5)]
    assert not service.store.pending and service.finished


def test_results_beyond_the_in_flight_limit_go_out_as_confirms_come_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(publishing, "RESULTS_IN_FLIGHT", 3)
    _service, channel, loop = five_closed_intervals(tmp_path, monkeypatch)
    assert len(channel.published) == 2
    loop.turn()
    assert len(channel.published) == 3 and loop.pending_turns == 0  # 3 unconfirmed: the rest waits for confirms
    channel.confirm(2)
    assert len(channel.published) == 5 and channel.acks == []
    channel.confirm(5)
    assert channel.acks == [(6, True)]
    assert bodies(channel, "interval_start") == [format_utc(START + 60 * n) for n in range(5)]


def test_a_turn_scheduled_on_a_lost_connection_does_not_hold_back_the_next_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    service, _channel, _loop = five_closed_intervals(tmp_path, monkeypatch)
    fresh = reconnect(service)  # the lost connection's loop, with the scheduled turn, is gone
    tick(service)
    assert len(fresh.published) == 2 and service.connection.ioloop.pending_turns == 1  # type: ignore[union-attr]


def test_a_flush_starts_once_enough_new_day_files_wait_to_be_created(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flush, "NEW_FILES_PER_FLUSH", 2)
    service, channel = pv_service(tmp_path)
    for meter_id in ["meter-1", "meter-2", "meter-3"]:
        tag = deliver(channel, START, meter_id=meter_id, power_w=1.0)
        if tag == 1:
            assert channel.acks == [] and service.store.new_dirty_files == 1
    # the second new file started a flush: both on disk and acked; the third waits for the next one
    assert channel.acks == [(2, True)]
    assert sorted(p.parent.name for p in tmp_path.glob("meter-*/*.csv")) == ["meter-1", "meter-2"]
    assert service.store.new_dirty_files == 1


def test_an_interval_left_unpublished_by_a_stopped_process_is_published_when_its_rows_come_back_late(
        tmp_path: Path) -> None:
    # Issue #21 section 5: after a disk-full stop, the restarted simulator got live readings before the
    # stopped one's unacked readings; intervals whose rows were all on disk (written, never published)
    # were never published, because duplicates in an earlier interval did not make it due.
    first, channel = pv_service(tmp_path)
    for second in range(150):
        deliver(channel, START + second)
    first.store.write()  # on disk; the process stopped before publishing anything
    second, channel = pv_service(tmp_path)
    for second_s in range(300, 360):  # live readings first
        deliver(channel, START + second_s)
    for second_s in range(100, 150):  # then the stopped process's readings, redelivered
        deliver(channel, START + second_s, redelivered=True)
    tick(second, 3)
    assert {"2026-06-21T00:01:00Z", "2026-06-21T00:02:00Z"} <= set(bodies(channel, "interval_start"))
    assert bodies(channel, "readings")[bodies(channel, "interval_start").index("2026-06-21T00:01:00Z")] == 60
