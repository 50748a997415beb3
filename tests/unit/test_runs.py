"""Unit tests of run completion tracking (pv_simulator/runs.py)."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from common.clock import LocalDay
from common.schema import EndOfRun, InvalidMessage, format_utc, parse_end_of_run
from pv_simulator.runs import MeterEnd, RunTracker
from pv_simulator.writer import CsvStore
from store.dayfile import DayFile

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
        self.count()  # resumed runs: what the service's first ticks do

    def count(self) -> None:
        """Count every queued day, as the service's ticks do."""
        while self.tracker.advance(time.monotonic() + 1.0):
            pass

    def announce(self, message: EndOfRun) -> None:
        self.tracker.announce(message)
        self.count()

    def deliver(self, meter_id: str, epoch_s: int, power_w: float = 100.0) -> bool:
        if self.store.add(meter_id, epoch_s * 1000, power_w) is None:
            return False
        self.tracker.written(meter_id, epoch_s * 1000)
        return True

    def deliver_all(self, meter_id: str, first_s: int = START, readings: int = READINGS,
                    interval_s: int = INTERVAL) -> None:
        for k in range(readings):
            self.deliver(meter_id, first_s + k * interval_s)

    def flush(self) -> list:
        """Write, save and close the runs complete on disk (as the service does over its next ticks)."""
        self.store.write()
        self.tracker.save()
        done = self.tracker.pop_complete()
        for run in done:
            self.tracker.record_complete(run)
        self.tracker.save()
        return done

    def remaining(self, run_id: str, meter_id: str) -> int:
        return self.tracker.runs[run_id].ends[meter_id].remaining


@pytest.fixture
def h(tmp_path) -> Harness:
    return Harness(tmp_path)


def test_announce_before_any_row_leaves_every_reading_remaining(h):
    h.announce(end_message("meter-1"))
    assert h.remaining("run-1", "meter-1") == READINGS
    assert not h.tracker.runs["run-1"].complete
    assert h.tracker.seen
    assert not h.tracker.all_done


def test_rows_written_after_the_announce_count_down_to_completion(h):
    h.announce(end_message("meter-1"))
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
    h.announce(end_message("meter-1"))
    assert h.remaining("run-1", "meter-1") == 0
    assert [run.run_id for run in h.tracker.pop_complete()] == ["run-1"]


def test_duplicates_and_readings_off_the_announced_grid_do_not_count(h):
    h.announce(end_message("meter-1"))
    h.deliver("meter-1", START)
    assert not h.deliver("meter-1", START)  # duplicate, dropped by the store
    h.deliver("meter-1", START + 30)  # not on the 60 s grid
    h.deliver("meter-1", START + READINGS * INTERVAL)  # after the last announced reading
    h.deliver("meter-1", START - INTERVAL)  # before the first
    h.deliver("meter-2", START + INTERVAL)  # another meter
    assert h.remaining("run-1", "meter-1") == READINGS - 1


def test_run_of_two_meters_needs_both_ends_announced_and_written(h):
    meters = ("meter-1", "meter-2")
    h.announce(end_message("meter-1", meters=meters))
    h.deliver_all("meter-1")
    h.deliver_all("meter-2")
    assert h.flush() == []  # meter-2 has not announced its end
    assert not h.tracker.all_done
    h.announce(end_message("meter-2", meters=meters))
    assert h.remaining("run-1", "meter-2") == 0
    assert [run.meters for run in h.flush()] == [meters]
    assert h.tracker.all_done


def test_run_of_two_meters_waits_for_the_rows_of_the_second(h):
    meters = ("meter-1", "meter-2")
    h.announce(end_message("meter-1", meters=meters))
    h.announce(end_message("meter-2", meters=meters))
    h.deliver_all("meter-1")
    assert h.flush() == []
    h.deliver_all("meter-2", readings=READINGS - 1)
    assert h.flush() == []
    h.deliver("meter-2", START + (READINGS - 1) * INTERVAL)
    assert len(h.flush()) == 1


def test_a_repeated_announce_does_not_reset_the_count(h):
    h.announce(end_message("meter-1"))
    h.deliver_all("meter-1", readings=4)
    h.announce(end_message("meter-1"))
    assert h.remaining("run-1", "meter-1") == READINGS - 4


def test_an_announce_spanning_midnight_counts_rows_of_both_days(h):
    first = DAY.end_s - 5 * INTERVAL
    h.deliver_all("meter-1", first_s=first)
    h.store.write()
    assert len(list((h.output_dir / "meter-1").glob("*.csv"))) == 2
    h.announce(end_message("meter-1", first_s=first))
    assert h.remaining("run-1", "meter-1") == 0


def test_saved_unfinished_runs_are_resumed_by_a_new_tracker(tmp_path):
    first = Harness(tmp_path)
    first.announce(end_message("meter-1"))
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
    first.announce(end_message("meter-1"))
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
    first.announce(end_message("meter-1", run_id="run-a"))
    first.deliver_all("meter-1")
    first.announce(end_message("meter-2", run_id="run-b", meters=("meter-2",)))
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
    h.announce(end_message("meter-1", run_id="run-a"))
    h.announce(end_message("meter-2", run_id="run-b", meters=("meter-2",)))
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
    end = MeterEnd("run-1", "meter-1", first_ms=100_000, last_ms=400_000, interval_s=100, readings=4)
    assert not end.covers(100_500) and end.covers(100_000)


def test_meter_end_covers_only_the_announced_instants():
    end = MeterEnd("run-1", "meter-1", first_ms=100_000, last_ms=400_000, interval_s=100, readings=4)
    assert [end.covers(t * 1000) for t in (0, 100, 150, 200, 400, 500)] == [False, True, False, True, True, False]


def test_save_writes_atomically_without_leaving_temporary_files(h):
    h.announce(end_message("meter-1"))
    h.tracker.save()
    files = sorted(p.name for p in (h.output_dir / ".pvsim" / "runs").iterdir())
    assert files == ["run-1.json"]
    record = json.loads((h.output_dir / ".pvsim" / "runs" / "run-1.json").read_text())
    assert record["ends"]["meter-1"]["readings"] == READINGS
    assert record["ends"]["meter-1"]["first_ms"] == START * 1000
    assert record["ends"]["meter-1"]["last_ms"] == (START + (READINGS - 1) * INTERVAL) * 1000


def test_announce_converts_timestamps_to_epoch_milliseconds(h):
    h.announce(end_message("meter-1"))
    end = h.tracker.runs["run-1"].ends["meter-1"]
    assert end.first_ms == int(datetime(2026, 6, 20, 22, tzinfo=UTC).timestamp()) * 1000
    assert end.interval_s == INTERVAL


def test_an_announce_touches_no_day_file_and_counting_goes_one_day_per_expired_budget(h, monkeypatch):
    # A valid end of run naming 3,000 days used to walk (and create) 3,000 day files inside the callback.
    days = 3000
    message = end_message("meter-1", readings=days * 1440, interval_s=60)

    def no_files(*_args, **_kwargs):
        raise AssertionError("a day file was touched inside the announce")

    with monkeypatch.context() as patched:
        patched.setattr(h.store, "existing", no_files)
        patched.setattr(h.store, "day_file", no_files)
        patched.setattr(h.store, "days_of", no_files)
        h.tracker.announce(message)
    assert h.tracker.counting and not h.tracker.runs["run-1"].complete
    assert h.tracker.advance(time.monotonic() - 1)  # an expired budget still counts one day, and says more is left
    end = h.tracker.runs["run-1"].ends["meter-1"]
    assert end.counting and end.counted_to_ms == (DAY.end_s) * 1000
    h.count()
    assert not h.tracker.counting and h.remaining("run-1", "meter-1") == days * 1440


def test_rows_of_a_day_written_while_its_run_is_being_counted_are_counted_once(h):
    first = DAY.end_s - 5 * INTERVAL  # the run spans midnight: two days
    h.deliver_all("meter-1", first_s=first, readings=3)
    h.tracker.announce(end_message("meter-1", first_s=first))
    h.tracker.advance(time.monotonic() - 1)  # the first day is counted, the second is not
    h.deliver_all("meter-1", first_s=first)  # 3 duplicates, 2 on the counted day, 5 on the next
    assert h.remaining("run-1", "meter-1") == READINGS - 3 - 2
    h.count()
    assert h.remaining("run-1", "meter-1") == 0
    assert len(h.flush()) == 1


def test_a_long_run_is_counted_without_reading_back_any_file_it_wrote(h, monkeypatch):
    # Only 64 day files used to stay in memory: a 100-day run re-read evicted files at its end.
    days = 100
    h.deliver_all("meter-1", readings=days * 24, interval_s=3600)
    h.store.write()
    loads = []
    original = DayFile._load
    monkeypatch.setattr(DayFile, "_load", lambda self: (loads.append(self.path), original(self)))
    h.announce(end_message("meter-1", readings=days * 24, interval_s=3600))
    assert loads == []
    assert len(h.flush()) == 1


def test_a_run_whose_timestamps_are_not_whole_seconds_completes(h):
    first_ms = START * 1000 + 500  # 00:00:00.500 local
    body = {"schema": 1, "meter_id": "meter-1", "run_id": "run-1", "meters": ["meter-1"], "readings": READINGS,
            "interval_s": INTERVAL, "first_timestamp": "2026-06-20T22:00:00.500Z",
            "last_timestamp": f"2026-06-20T22:{(READINGS - 1) * INTERVAL // 60:02d}:00.500Z"}
    h.announce(parse_end_of_run(json.dumps(body).encode()))
    for k in range(READINGS - 1):
        assert h.store.add("meter-1", first_ms + k * INTERVAL * 1000, 100.0) is not None
        h.tracker.written("meter-1", first_ms + k * INTERVAL * 1000)
    assert h.remaining("run-1", "meter-1") == 1
    h.store.add("meter-1", first_ms + (READINGS - 1) * INTERVAL * 1000, 100.0)
    h.tracker.written("meter-1", first_ms + (READINGS - 1) * INTERVAL * 1000)
    assert [run.run_id for run in h.flush()] == ["run-1"]
    assert h.tracker.all_done


def test_a_sub_second_run_written_before_its_announce_is_counted_from_the_day_file(h):
    first_ms = START * 1000 + 250
    for k in range(READINGS):
        h.store.add("meter-1", first_ms + k * INTERVAL * 1000, 100.0)
    h.store.write()
    end = MeterEnd("run-1", "meter-1", first_ms=first_ms, last_ms=first_ms + (READINGS - 1) * INTERVAL * 1000,
                   interval_s=INTERVAL, readings=READINGS)
    second = Harness(h.output_dir)  # a fresh store: the rows come from disk
    second.tracker._track(second.tracker._run("run-1", ("meter-1",)), end)
    second.count()
    assert end.remaining == 0


def test_a_record_from_before_milliseconds_is_resumed(tmp_path):
    state = tmp_path / ".pvsim" / "runs"
    state.mkdir(parents=True)
    (state / "old.json").write_text(json.dumps({"run_id": "old", "meters": ["meter-1"], "complete": False, "ends": {
        "meter-1": {"run_id": "old", "meter_id": "meter-1", "first_s": START, "last_s": START + 540,
                    "interval_s": INTERVAL, "readings": READINGS, "remaining": READINGS}}}))
    h = Harness(tmp_path)
    assert h.remaining("old", "meter-1") == READINGS
    h.deliver_all("meter-1")
    assert [run.run_id for run in h.flush()] == ["old"]
