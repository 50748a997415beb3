"""Two PV simulators sharing one output directory: another writer's rows are noticed, never doubled.

Two :class:`CsvStore` objects on one directory stand for two processes (the fcntl lock
only excludes other processes; what is tested here is the size/inode check and the index).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

from pv_simulator.results import Sums
from pv_simulator.summary import summarize_csv
from pv_simulator.writer import CsvStore
from store.daystore import SYNCFS_MIN_FILES

UTC = ZoneInfo("UTC")
START = 1_782_000_000  # 2026-06-21T00:00:00Z
PATH = Path("meter-1") / "2026-06-21.csv"


def store(output_dir: Path) -> CsvStore:
    return CsvStore(output_dir, UTC, lambda _day: (1000,) * 86_400)


def add(s: CsvStore, seconds: range | list[int], power_w: float = 100.0) -> int:
    return sum(s.add("meter-1", (START + k) * 1000, power_w) is not None for k in seconds)


def seconds_in(output_dir: Path) -> list[int]:
    lines = (output_dir / PATH).read_text().splitlines()
    assert lines[0].startswith("timestamp,")
    return [int(line[17:19]) + 60 * int(line[14:16]) for line in lines[1:]]  # mm:ss of the day


@contextmanager
def locked_by_another_process(path: Path) -> Iterator[None]:
    """``path`` held under an exclusive fcntl lock by a child process (as if paused while appending)."""
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time\n"
        f"f = open({str(path)!r}, 'ab')\n"
        "fcntl.lockf(f.fileno(), fcntl.LOCK_EX)\n"
        "print('locked', flush=True)\n"
        "time.sleep(30)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        yield
    finally:
        holder.kill()
        holder.wait()


def test_rows_another_writer_appended_are_read_in_and_queued_copies_dropped(tmp_path: Path) -> None:
    active, paused = store(tmp_path), store(tmp_path)
    assert add(paused, [100]) == 1  # the paused process touched the file before the other wrote
    assert add(active, range(10)) == 10
    active.write()
    assert add(paused, range(5, 15)) == 10  # its index is stale: 5..9 look new
    paused.write()
    assert seconds_in(tmp_path) == [*range(10), 100, *range(10, 15)]  # header once, nothing doubled
    assert sorted(paused.take_foreign()) == [("meter-1", (START + k) * 1000) for k in range(5)]
    assert paused.take_foreign() == []
    day = paused.day_file("meter-1", START)
    assert day.rows == 16 and day.totals.rows == 16
    assert summarize_csv(tmp_path / PATH) == day.totals.summary("meter-1", "2026-06-21", 1.0)
    assert day.intervals.get(START) == Sums(15, 15 * 1000, 15 * 1000)
    # And the first writer notices the second's rows the same way.
    assert add(active, [200]) == 1
    active.write()
    assert sorted(active.take_foreign()) == [("meter-1", (START + k) * 1000) for k in (10, 11, 12, 13, 14, 100)]
    assert seconds_in(tmp_path) == [*range(10), 100, *range(10, 15), 200]


def test_a_file_another_writer_replaced_by_sorting_is_read_again(tmp_path: Path) -> None:
    first, second = store(tmp_path), store(tmp_path)
    add(first, [20, 10])
    first.write()
    assert add(second, [30]) == 1  # loads the file (10, 20), queues 30
    first.day_file("meter-1", START).sort()  # replaces the file
    add(first, [15])
    first.write()
    second.write()  # notices the new inode and the extra row
    assert seconds_in(tmp_path) == [10, 20, 15, 30]
    assert second.take_foreign() == [("meter-1", (START + 15) * 1000)]
    assert second.day_file("meter-1", START).totals.rows == 4


def test_a_torn_line_left_by_a_crashed_writer_is_dropped_before_appending(tmp_path: Path) -> None:
    crashed, survivor = store(tmp_path), store(tmp_path)
    add(crashed, range(3))
    crashed.write()
    add(survivor, [3])
    with (tmp_path / PATH).open("a") as handle:
        handle.write("2026-06-21T00:00:04+00:00,meter-1,0.01")  # the crash cut this row short
    survivor.write()
    assert seconds_in(tmp_path) == [0, 1, 2, 3]
    assert survivor.day_file("meter-1", START).rows == 4


def test_forget_makes_the_next_use_read_the_file_again(tmp_path: Path) -> None:
    first, second = store(tmp_path), store(tmp_path)
    add(second, [0])
    second.write()
    add(first, range(1, 5))
    first.write()
    second.forget()
    assert add(second, range(5)) == 0  # all on disk now: duplicates
    assert second.day_file("meter-1", START).rows == 5


def test_a_file_locked_by_a_paused_process_keeps_its_rows_queued_without_blocking(tmp_path: Path) -> None:
    s = store(tmp_path)
    add(s, [0])
    s.write()
    with locked_by_another_process(tmp_path / PATH):
        add(s, [1])
        started = time.monotonic()
        assert s.write() == []
        waited_s = time.monotonic() - started
        assert s.pending and waited_s < 1  # put off, not blocked
        assert seconds_in(tmp_path) == [0]
    assert len(s.write()) == 1 and not s.pending
    assert seconds_in(tmp_path) == [0, 1]


def test_with_many_dirty_files_a_locked_one_keeps_its_rows_queued_and_the_others_are_written(tmp_path: Path) -> None:
    s = store(tmp_path)
    meters = SYNCFS_MIN_FILES + 2
    for number in range(meters):
        assert s.add(f"meter-{number}", START * 1000, 100.0) is not None
    s.write()
    with locked_by_another_process(tmp_path / PATH):
        for number in range(meters):
            assert s.add(f"meter-{number}", (START + 1) * 1000, 100.0) is not None
        written = s.write()
        assert len(written) == meters - 1 and "meter-1" not in {f.meter_id for f in written}
        assert s.pending and seconds_in(tmp_path) == [0]
    assert len(s.write()) == 1 and not s.pending
    assert seconds_in(tmp_path) == [0, 1]
    for number in range(meters):
        assert (tmp_path / f"meter-{number}" / "2026-06-21.csv").read_text().count("\n") == 3
