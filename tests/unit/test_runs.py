"""Unit tests of run completion tracking (pv_simulator/runs.py)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from common.clock import LocalDay
from common.schema import EndOfRun, InvalidMessage, format_utc, parse_end_of_run
from pv_simulator.runs import MeterEnd, RunTracker
from pv_simulator.writer import CsvStore

BERLIN = ZoneInfo("Europe/Berlin")
DAY = LocalDay(date(2026, 6, 21), BERLIN)
START = DAY.start_s  # 2026-06-20T22:00:00Z
INTERVAL = 60
READINGS = 10  # START, START + 60, ..., START + 540


def end_message(meter_id: str, run_id: str = "run-1", meters: tuple[str, ...] = ("meter-1",),
                readings: int = READINGS, first_s: int = START, interval_s: int = INTERVAL) -> EndOfRun:
    body = {
        "schema": 1,
        "meter_id": meter_id,
        "run_id": run_id,
        "meters": list(meters),
        "readings": readings,
        "interval_s": interval_s,
        "first_timestamp": format_utc(first_s),
        "last_timestamp": format_utc(first_s + (readings - 1) * interval_s),
    }
    return parse_end_of_run(json.dumps(body).encode())


class Harness:
    """A CsvStore and RunTracker on one output dir, fed like the service feeds them."""

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir
        self.store = CsvStore(output_dir, BERLIN, lambda _day: (0,) * 86_400)
        self.tracker = RunTracker(output_dir / ".pvsim" / "runs", self.store)

    def deliver(self, meter_id: str, epoch_s: int, power_w: float = 100.0) -> bool:
        if self.store.add(meter_id, epoch_s * 1000, power_w) is None:
            return False
        self.tracker.written(meter_id, epoch_s)
        return True

    def deliver_all(self, meter_id: str, first_s: int = START, readings: int = READINGS,
                    interval_s: int = INTERVAL) -> None:
        for k in range(readings):
            self.deliver(meter_id, first_s + k * interval_s)

    def flush(self) -> list:
        self.store.write()
        self.tracker.save()
        return self.tracker.pop_complete()

    def remaining(self, run_id: str, meter_id: str) -> int:
        return self.tracker.runs[run_id].ends[meter_id].remaining


@pytest.fixture
def h(tmp_path) -> Harness:
    return Harness(tmp_path)


def test_announce_before_any_row_leaves_every_reading_remaining(h):
    h.tracker.announce(end_message("meter-1"))
    assert h.remaining("run-1", "meter-1") == READINGS
    assert not h.tracker.runs["run-1"].complete
    assert h.tracker.seen
    assert not h.tracker.all_done


def test_rows_written_after_the_announce_count_down_to_completion(h):
    h.tracker.announce(end_message("meter-1"))
    h.deliver_all("meter-1", readings=READINGS - 1)
    assert h.remaining("run-1", "meter-1") == 1
    assert h.flush() == []
    h.deliver("meter-1", START + (READINGS - 1) * INTERVAL)
    assert h.remaining("run-1", "meter-1") == 0
    done = h.flush()
    assert [run.run_id for run in done] == ["run-1"]
    assert h.tracker.pop_complete() == []  # returned once only
    assert h.tracker.all_done


def test_rows_written_before_the_announce_are_counted_at_the_announce(h):
    h.deliver_all("meter-1")
    h.store.write()
    h.tracker.announce(end_message("meter-1"))
    assert h.remaining("run-1", "meter-1") == 0
    assert [run.run_id for run in h.tracker.pop_complete()] == ["run-1"]


def test_duplicates_and_readings_off_the_announced_grid_do_not_count(h):
    h.tracker.announce(end_message("meter-1"))
    h.deliver("meter-1", START)
    assert not h.deliver("meter-1", START)  # duplicate, dropped by the store
    h.deliver("meter-1", START + 30)  # not on the 60 s grid
    h.deliver("meter-1", START + READINGS * INTERVAL)  # after the last announced reading
    h.deliver("meter-1", START - INTERVAL)  # before the first
    h.deliver("meter-2", START + INTERVAL)  # another meter
    assert h.remaining("run-1", "meter-1") == READINGS - 1


def test_run_of_two_meters_needs_both_ends_announced_and_written(h):
    meters = ("meter-1", "meter-2")
    h.tracker.announce(end_message("meter-1", meters=meters))
    h.deliver_all("meter-1")
    h.deliver_all("meter-2")
    assert h.flush() == []  # meter-2 has not announced its end
    assert not h.tracker.all_done
    h.tracker.announce(end_message("meter-2", meters=meters))
    assert h.remaining("run-1", "meter-2") == 0
    assert [run.meters for run in h.flush()] == [meters]
    assert h.tracker.all_done


def test_run_of_two_meters_waits_for_the_rows_of_the_second(h):
    meters = ("meter-1", "meter-2")
    h.tracker.announce(end_message("meter-1", meters=meters))
    h.tracker.announce(end_message("meter-2", meters=meters))
    h.deliver_all("meter-1")
    assert h.flush() == []
    h.deliver_all("meter-2", readings=READINGS - 1)
    assert h.flush() == []
    h.deliver("meter-2", START + (READINGS - 1) * INTERVAL)
    assert len(h.flush()) == 1


def test_a_repeated_announce_does_not_reset_the_count(h):
    h.tracker.announce(end_message("meter-1"))
    h.deliver_all("meter-1", readings=4)
    h.tracker.announce(end_message("meter-1"))
    assert h.remaining("run-1", "meter-1") == READINGS - 4


def test_an_announce_spanning_midnight_counts_rows_of_both_days(h):
    first = DAY.end_s - 5 * INTERVAL
    h.deliver_all("meter-1", first_s=first)
    h.store.write()
    assert len(list((h.output_dir / "meter-1").glob("*.csv"))) == 2
    h.tracker.announce(end_message("meter-1", first_s=first))
    assert h.remaining("run-1", "meter-1") == 0


def test_saved_unfinished_runs_are_resumed_by_a_new_tracker(tmp_path):
    first = Harness(tmp_path)
    first.tracker.announce(end_message("meter-1"))
    first.deliver_all("meter-1", readings=6)
    assert first.flush() == []
    record = json.loads((tmp_path / ".pvsim" / "runs" / "run-1.json").read_text())
    assert record["complete"] is False
    assert record["meters"] == ["meter-1"]

    second = Harness(tmp_path)  # restart: the counts come from the CSVs on disk
    assert second.tracker.seen
    assert not second.tracker.all_done
    assert second.remaining("run-1", "meter-1") == READINGS - 6
    for k in range(READINGS):
        second.deliver("meter-1", START + k * INTERVAL)  # redelivered ones are duplicates
    assert second.remaining("run-1", "meter-1") == 0
    assert [run.run_id for run in second.flush()] == ["run-1"]
    assert second.tracker.all_done


def test_saved_complete_runs_are_skipped_by_a_new_tracker(tmp_path):
    first = Harness(tmp_path)
    first.tracker.announce(end_message("meter-1"))
    first.deliver_all("meter-1")
    assert len(first.flush()) == 1
    first.tracker.save()  # the service saves again once the completed run was popped
    assert json.loads((tmp_path / ".pvsim" / "runs" / "run-1.json").read_text())["complete"] is True

    second = Harness(tmp_path)
    assert second.tracker.runs == {}
    assert not second.tracker.seen
    assert not second.tracker.all_done  # nothing announced since the start
    assert second.tracker.pop_complete() == []


def test_restart_resumes_only_the_unfinished_of_several_runs(tmp_path):
    first = Harness(tmp_path)
    first.tracker.announce(end_message("meter-1", run_id="run-a"))
    first.deliver_all("meter-1")
    first.tracker.announce(end_message("meter-2", run_id="run-b", meters=("meter-2",)))
    assert [run.run_id for run in first.flush()] == ["run-a"]
    first.tracker.save()

    second = Harness(tmp_path)
    assert set(second.tracker.runs) == {"run-b"}
    assert second.remaining("run-b", "meter-2") == READINGS


def test_an_unreadable_run_record_is_ignored(tmp_path):
    state = tmp_path / ".pvsim" / "runs"
    state.mkdir(parents=True)
    (state / "broken.json").write_text("{not json")
    tracker = Harness(tmp_path).tracker
    assert tracker.runs == {}


def test_all_done_needs_at_least_one_announced_run(h):
    assert not h.tracker.seen
    assert not h.tracker.all_done
    h.deliver_all("meter-1")
    h.flush()
    assert not h.tracker.all_done  # rows alone do not make a run


def test_all_done_is_false_while_any_run_is_unfinished(h):
    h.tracker.announce(end_message("meter-1", run_id="run-a"))
    h.tracker.announce(end_message("meter-2", run_id="run-b", meters=("meter-2",)))
    h.deliver_all("meter-1")
    assert [run.run_id for run in h.flush()] == ["run-a"]
    assert not h.tracker.all_done
    h.deliver_all("meter-2")
    assert [run.run_id for run in h.flush()] == ["run-b"]
    assert h.tracker.all_done


def test_an_end_of_run_without_readings_is_invalid_input():
    with pytest.raises(InvalidMessage, match="readings"):
        end_message("meter-1", readings=0)


def test_a_sub_second_instant_is_not_one_of_the_announced_readings():
    end = MeterEnd("run-1", "meter-1", first_s=100, last_s=400, interval_s=100, readings=4)
    assert not end.covers(100.5) and end.covers(100.0)


def test_meter_end_covers_only_the_announced_instants():
    end = MeterEnd("run-1", "meter-1", first_s=100, last_s=400, interval_s=100, readings=4)
    assert [end.covers(t) for t in (0, 100, 150, 200, 400, 500)] == [False, True, False, True, True, False]


def test_save_writes_atomically_without_leaving_temporary_files(h):
    h.tracker.announce(end_message("meter-1"))
    h.tracker.save()
    files = sorted(p.name for p in (h.output_dir / ".pvsim" / "runs").iterdir())
    assert files == ["run-1.json"]
    record = json.loads((h.output_dir / ".pvsim" / "runs" / "run-1.json").read_text())
    assert record["ends"]["meter-1"]["readings"] == READINGS
    assert record["ends"]["meter-1"]["first_s"] == START
    assert record["ends"]["meter-1"]["last_s"] == START + (READINGS - 1) * INTERVAL


def test_announce_converts_timestamps_to_epoch_seconds(h):
    h.tracker.announce(end_message("meter-1"))
    end = h.tracker.runs["run-1"].ends["meter-1"]
    assert end.first_s == int(datetime(2026, 6, 20, 22, tzinfo=UTC).timestamp())
    assert end.interval_s == INTERVAL
