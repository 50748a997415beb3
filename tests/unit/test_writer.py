"""Unit tests of the daily CSV store (pv_simulator/writer.py)."""

from __future__ import annotations

import ctypes
import errno
import os
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from common.clock import LocalDay
from models.pv.reference import reference_day_dw
from pv_simulator.summary import summarize_csv
from pv_simulator.writer import CsvStore
from store import daystore as writer_module
from store import format as store_format
from store.durable import find_syncfs
from store.format import HEADER, OutputError, format_kw

BERLIN = ZoneInfo("Europe/Berlin")
HEADER_TEXT = "timestamp,meter_id,meter_power_kw,pv_power_kw,net_power_kw"


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp()) * 1000


def flat(value_dw: int):
    return lambda day: (value_dw,) * 86_400


def store(output_dir: Path, profile=None, tz: ZoneInfo = BERLIN) -> CsvStore:
    return CsvStore(output_dir, tz, profile or (lambda _day: reference_day_dw()))


def rows(path: Path) -> list[list[str]]:
    return [line.split(",") for line in path.read_text().splitlines()[1:]]


def test_header_constant():
    assert HEADER == HEADER_TEXT + "\n"


def test_a_new_file_gets_the_header_exactly_once(tmp_path):
    s = store(tmp_path)
    s.add("meter-1", ms(2026, 6, 21, 12, 0, 0), 1000.0)
    s.write()
    s.add("meter-1", ms(2026, 6, 21, 12, 0, 1), 1000.0)
    s.write()
    path = tmp_path / "meter-1" / "2026-06-21.csv"
    lines = path.read_text().splitlines()
    assert lines[0] == HEADER_TEXT
    assert lines.count(HEADER_TEXT) == 1
    assert len(lines) == 3


def test_row_timestamp_is_local_time_with_its_offset(tmp_path):
    s = store(tmp_path)
    s.add("meter-1", ms(2026, 6, 21, 12, 0, 0), 1000.0)
    s.add("meter-1", ms(2026, 1, 15, 12, 0, 0), 1000.0)
    s.write()
    assert rows(tmp_path / "meter-1" / "2026-06-21.csv")[0][0] == "2026-06-21T14:00:00+02:00"
    assert rows(tmp_path / "meter-1" / "2026-01-15.csv")[0][0] == "2026-01-15T13:00:00+01:00"


def test_row_timestamp_with_milliseconds_keeps_them(tmp_path):
    s = store(tmp_path)
    s.add("meter-1", ms(2026, 6, 21, 12, 0, 0) + 250, 1000.0)
    s.write()
    row = rows(tmp_path / "meter-1" / "2026-06-21.csv")[0]
    assert row[0] == "2026-06-21T14:00:00.250+02:00"
    assert datetime.fromisoformat(row[0]).timestamp() == ms(2026, 6, 21, 12, 0, 0) / 1000 + 0.25


def test_row_powers_have_four_decimals_and_net_is_meter_minus_pv(tmp_path):
    s = store(tmp_path)
    moment = ms(2026, 6, 21, 12, 0, 0)
    s.add("meter-1", moment, 1234.5)
    s.write()
    _, meter_id, meter_kw, pv_kw, net_kw = rows(tmp_path / "meter-1" / "2026-06-21.csv")[0]
    assert meter_id == "meter-1"
    assert meter_kw == "1.2345"
    pv_dw = reference_day_dw()[14 * 3600]
    assert pv_kw == format_kw(pv_dw)
    for text in (meter_kw, pv_kw, net_kw):
        assert len(text.split(".")[1]) == 4
    assert round(float(net_kw) * 10_000) == round(float(meter_kw) * 10_000) - round(float(pv_kw) * 10_000)
    assert float(net_kw) < 0  # 1.2 kW load against about 3.2 kW of PV at 14:00


def test_net_is_exact_as_printed_for_many_values(tmp_path):
    s = store(tmp_path)
    start = ms(2026, 6, 21, 4, 0, 0)
    for k in range(0, 3600 * 10, 37):
        s.add("meter-1", start + k * 1000, (k * 7.3) % 9000.0)
    s.write()
    for _, _, meter_kw, pv_kw, net_kw in rows(tmp_path / "meter-1" / "2026-06-21.csv"):
        to_dw = lambda text: int(text.replace(".", "").replace("-", "")) * (-1 if text.startswith("-") else 1)  # noqa: E731
        assert to_dw(net_kw) == to_dw(meter_kw) - to_dw(pv_kw)


def test_format_kw():
    assert format_kw(12_345) == "1.2345"
    assert format_kw(0) == "0.0000"
    assert format_kw(-5) == "-0.0005"
    assert format_kw(90_000_000) == "9000.0000"


def test_duplicate_add_returns_none_and_writes_nothing(tmp_path):
    s = store(tmp_path)
    moment = ms(2026, 6, 21, 12, 0, 0)
    assert s.add("meter-1", moment, 1000.0) is not None
    s.write()
    path = tmp_path / "meter-1" / "2026-06-21.csv"
    before = path.read_bytes()
    assert not s.add("meter-1", moment, 2000.0)
    assert not s.pending
    assert s.write() == []
    assert path.read_bytes() == before


def test_the_same_instant_of_another_meter_is_not_a_duplicate(tmp_path):
    s = store(tmp_path)
    moment = ms(2026, 6, 21, 12, 0, 0)
    assert s.add("meter-1", moment, 1000.0)
    assert s.add("meter-2", moment, 1000.0)
    s.write()
    assert len(rows(tmp_path / "meter-2" / "2026-06-21.csv")) == 1


def test_a_restarted_store_loads_the_index_from_disk(tmp_path):
    first = store(tmp_path)
    moments = [ms(2026, 6, 21, 12, 0, k) for k in range(5)] + [ms(2026, 6, 21, 12, 0, 5) + 500]
    for moment in moments:
        first.add("meter-1", moment, 500.0)
    first.write()
    path = tmp_path / "meter-1" / "2026-06-21.csv"
    before = path.read_bytes()

    second = store(tmp_path)
    for moment in moments:
        assert not second.add("meter-1", moment, 500.0)
    assert second.day_file("meter-1", moments[0] / 1000).rows == 6
    assert second.add("meter-1", ms(2026, 6, 21, 12, 0, 6), 500.0)
    second.write()
    after = path.read_text()
    assert after.startswith(before.decode())
    assert after.count(HEADER_TEXT) == 1
    assert len(after.splitlines()) == 1 + 7


def test_a_torn_last_line_is_dropped_on_load(tmp_path):
    first = store(tmp_path)
    for k in range(3):
        first.add("meter-1", ms(2026, 6, 21, 12, 0, k), 500.0)
    first.write()
    path = tmp_path / "meter-1" / "2026-06-21.csv"
    complete = path.read_bytes()
    path.write_bytes(complete + b"2026-06-21T14:00:03+02:00,meter-1,0.05")

    second = store(tmp_path)
    day_file = second.day_file("meter-1", ms(2026, 6, 21, 12, 0, 0) / 1000)
    assert day_file.rows == 3
    # Cut off under the file's lock before the next append (a load takes no lock: the line may be
    # another process's row being appended right now).
    # the torn instant was not recorded, so it can be written again
    assert second.add("meter-1", ms(2026, 6, 21, 12, 0, 3), 500.0)
    second.write()
    lines = path.read_text().splitlines()
    assert len(lines) == 5
    assert path.read_bytes().startswith(complete)
    assert lines[-1].startswith("2026-06-21T14:00:03+02:00,meter-1,0.5000,")


def test_a_file_with_a_foreign_header_raises_output_error(tmp_path):
    path = tmp_path / "meter-1" / "2026-06-21.csv"
    path.parent.mkdir(parents=True)
    path.write_text("time,power\n2026-06-21T14:00:00+02:00,1\n")
    s = store(tmp_path)
    with pytest.raises(OutputError, match="header") as caught:
        s.add("meter-1", ms(2026, 6, 21, 12, 0, 0), 500.0)
    assert str(path) in str(caught.value)
    assert path.read_text().startswith("time,power\n")


def test_an_empty_existing_file_gets_the_header(tmp_path):
    path = tmp_path / "meter-1" / "2026-06-21.csv"
    path.parent.mkdir(parents=True)
    path.write_text("")
    s = store(tmp_path)
    assert s.add("meter-1", ms(2026, 6, 21, 12, 0, 0), 500.0)
    s.write()
    assert path.read_text().splitlines()[0] == HEADER_TEXT


def test_readings_of_two_local_days_go_to_two_files(tmp_path):
    s = store(tmp_path)
    s.add("meter-1", ms(2026, 6, 21, 12, 0, 0), 500.0)
    s.add("meter-1", ms(2026, 6, 22, 12, 0, 0), 600.0)
    written = s.write()
    assert len(written) == 2
    assert sorted(p.name for p in (tmp_path / "meter-1").iterdir()) == ["2026-06-21.csv", "2026-06-22.csv"]
    assert rows(tmp_path / "meter-1" / "2026-06-22.csv")[0][2] == "0.6000"


def test_a_reading_after_local_midnight_goes_to_the_next_days_file(tmp_path):
    s = store(tmp_path)
    s.add("meter-1", ms(2026, 6, 21, 23, 30, 0), 500.0)
    s.add("meter-1", ms(2026, 6, 21, 21, 59, 59), 500.0)
    s.write()
    next_day = rows(tmp_path / "meter-1" / "2026-06-22.csv")
    assert [r[0] for r in next_day] == ["2026-06-22T01:30:00+02:00"]
    same_day = rows(tmp_path / "meter-1" / "2026-06-21.csv")
    assert [r[0] for r in same_day] == ["2026-06-21T23:59:59+02:00"]


def test_pv_power_uses_local_wall_clock_time(tmp_path):
    profile = tuple(range(86_400))  # PV value = wall second, to see which second was used
    s = store(tmp_path, profile=lambda _day: profile)
    s.add("meter-1", ms(2026, 6, 21, 12, 0, 0), 0.0)
    s.write()
    assert rows(tmp_path / "meter-1" / "2026-06-21.csv")[0][3] == format_kw(50_400)


def test_fall_back_day_holds_90000_distinct_instants(tmp_path):
    s = store(tmp_path, profile=flat(0))
    local_day = LocalDay(date(2026, 10, 25), BERLIN)
    for second in range(local_day.start_s, local_day.end_s):
        assert s.add("meter-1", second * 1000, 1.0) is not None
    s.write()
    path = tmp_path / "meter-1" / "2026-10-25.csv"
    lines = path.read_text().splitlines()
    assert len(lines) == 1 + 90_000
    stamps = [line.split(",", 1)[0] for line in lines[1:]]
    assert len(set(stamps)) == 90_000
    assert sum(1 for t in stamps if t.startswith("2026-10-25T02:30:00")) == 2
    assert "2026-10-25T02:30:00+02:00" in stamps
    assert "2026-10-25T02:30:00+01:00" in stamps
    assert len({datetime.fromisoformat(t).timestamp() for t in stamps[::997]}) == len(stamps[::997])
    # and after a restart, all 90,000 are known
    again = store(tmp_path, profile=flat(0))
    reloaded = again.day_file("meter-1", local_day.start_s)
    assert reloaded.count_aligned(local_day.start_s, local_day.end_s - 1, 1) == 90_000
    assert not again.add("meter-1", (local_day.start_s + 9_000) * 1000, 1.0)


def test_count_aligned_counts_held_instants_on_the_grid(tmp_path):
    s = store(tmp_path, profile=flat(0))
    local_day = LocalDay(date(2026, 6, 21), BERLIN)
    start = local_day.start_s
    for k in range(0, 600, 10):
        s.add("meter-1", (start + k) * 1000, 1.0)
    s.add("meter-1", (start + 5) * 1000, 1.0)  # off the 10 s grid
    day_file = s.day_file("meter-1", start)
    assert day_file.count_aligned(start, start + 590, 10) == 60
    assert day_file.count_aligned(start, start + 599, 1) == 61
    assert day_file.count_aligned(start + 5, start + 595, 10) == 1
    assert day_file.count_aligned(start + 100, start + 199, 10) == 10
    assert day_file.count_aligned(start - 10_000, start + 590, 10) == 60  # first_s before the day
    assert day_file.count_aligned(start, local_day.end_s + 10_000, 10) == 60  # last_s after the day
    assert day_file.count_aligned(start + 600, start + 599, 10) == 0


def test_days_of_lists_each_overlapping_day_file(tmp_path):
    s = store(tmp_path, profile=flat(0))
    days = list(s.days_of("meter-1", ms(2026, 6, 20, 12, 0, 0) // 1000, ms(2026, 6, 22, 12, 0, 0) // 1000))
    assert [d.day.day for d in days] == [date(2026, 6, 20), date(2026, 6, 21), date(2026, 6, 22)]


def test_writing_where_the_directory_cannot_be_created_raises_output_error_naming_the_path(tmp_path):
    blocker = tmp_path / "meter-1"
    blocker.write_text("a regular file where the meter's directory should be\n")
    s = store(tmp_path)
    assert s.add("meter-1", ms(2026, 6, 21, 12, 0, 0), 500.0)
    with pytest.raises(OutputError) as caught:
        s.write()
    assert str(tmp_path / "meter-1" / "2026-06-21.csv") in str(caught.value)


def test_writing_under_an_output_dir_that_is_a_file_raises_output_error(tmp_path):
    output = tmp_path / "output"
    output.write_text("not a directory\n")
    s = store(output)
    s.add("meter-1", ms(2026, 6, 21, 12, 0, 0), 500.0)
    with pytest.raises(OutputError, match="cannot write") as caught:
        s.write()
    assert str(output) in str(caught.value)


def test_many_days_of_one_meter_stay_correct_beyond_the_open_file_limit(tmp_path):
    s = store(tmp_path, profile=flat(0))
    base = ms(2026, 1, 1, 12, 0, 0)
    for day in range(80):
        assert s.add("meter-1", base + day * 86_400_000, 1.0)
    s.write()
    for day in range(80):  # evicted files are reloaded from disk: still duplicates
        assert not s.add("meter-1", base + day * 86_400_000, 1.0)
    assert len(list((tmp_path / "meter-1").iterdir())) == 80


def test_a_file_holding_only_a_torn_header_is_reset_and_gets_a_full_header(tmp_path):
    path = tmp_path / "meter-1" / "2026-06-21.csv"
    path.parent.mkdir(parents=True)
    path.write_text("timestamp,met")
    s = store(tmp_path)
    assert s.add("meter-1", ms(2026, 6, 21, 12, 0, 0), 500.0)
    s.write()
    lines = path.read_text().splitlines()
    assert lines[0] == HEADER_TEXT
    assert len(lines) == 2


@pytest.mark.parametrize(
    "corrupt_row",
    [b"garbage,meter-1,0.1,0.0,0.1\n", b"\xff\xfe not utf-8\n", b"2026-06-23T14:00:00+02:00,meter-1,0.1,0.0,0.1\n"],
    ids=["unparsable-timestamp", "not-utf8", "instant-of-another-day"],
)
def test_a_corrupt_complete_row_raises_output_error_naming_the_path(tmp_path, corrupt_row):
    # OutputError is "a CSV file could not be read"; the service stops cleanly on it, whereas any other
    # exception makes it requeue the delivery over and over.
    path = tmp_path / "meter-1" / "2026-06-21.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(HEADER.encode() + b"2026-06-21T14:00:00+02:00,meter-1,0.1000,0.0000,0.1000\n" + corrupt_row)
    s = store(tmp_path)
    with pytest.raises(OutputError) as caught:
        s.add("meter-1", ms(2026, 6, 21, 12, 0, 1), 500.0)
    assert str(path) in str(caught.value)


def test_sort_puts_late_rows_back_in_timestamp_order_and_keeps_them_all(tmp_path):
    s = store(tmp_path)
    for minute in (0, 1, 3, 4, 2):  # the reading of 12:02 arrives last
        s.add("meter-1", ms(2026, 6, 21, 12, minute), 1000.0 + minute)
    s.write()
    day_file = s.day_file("meter-1", ms(2026, 6, 21, 12, 0) / 1000)
    assert not day_file.in_order
    before = sorted(map(tuple, rows(day_file.path)))
    day_file.sort()
    after = rows(day_file.path)
    assert [r[0][11:16] for r in after] == ["14:00", "14:01", "14:02", "14:03", "14:04"]
    assert sorted(map(tuple, after)) == before and day_file.in_order
    assert day_file.path.read_text().startswith(HEADER)
    assert not list(tmp_path.rglob("*.tmp"))
    # a restart sees the same rows in order and keeps the index
    again = store(tmp_path).day_file("meter-1", ms(2026, 6, 21, 12, 0) / 1000)
    assert again.in_order and again.rows == 5
    assert store(tmp_path).add("meter-1", ms(2026, 6, 21, 12, 2), 5.0) is None


def test_sort_leaves_an_ordered_file_untouched(tmp_path):
    s = store(tmp_path)
    for minute in range(3):
        s.add("meter-1", ms(2026, 6, 21, 12, minute), 1.0)
    s.write()
    day_file = s.day_file("meter-1", ms(2026, 6, 21, 12, 0) / 1000)
    stamp = day_file.path.stat().st_mtime_ns
    day_file.sort()
    assert day_file.in_order and day_file.path.stat().st_mtime_ns == stamp


def test_a_duplicate_does_not_mark_a_file_out_of_order(tmp_path):
    s = store(tmp_path)
    for minute in range(3):
        s.add("meter-1", ms(2026, 6, 21, 12, minute), 1.0)
    assert s.add("meter-1", ms(2026, 6, 21, 12, 0), 1.0) is None  # a redelivery
    assert s.day_file("meter-1", ms(2026, 6, 21, 12, 0) / 1000).in_order


needs_syncfs = pytest.mark.skipif(writer_module._syncfs is None, reason="no syncfs (not Linux)")


def add_meters(s: CsvStore, meters: int, second: int) -> None:
    for number in range(meters):
        assert s.add(f"meter-{number}", ms(2026, 6, 21, 12, 0, second), 100.0 + number)


@needs_syncfs
def test_many_dirty_files_are_made_durable_by_one_syncfs(tmp_path, monkeypatch):
    calls = []
    real = writer_module._syncfs
    monkeypatch.setattr(writer_module, "_syncfs", lambda fd: calls.append(fd) or real(fd))
    s = store(tmp_path, profile=flat(0))
    meters = writer_module.SYNCFS_MIN_FILES + 2
    add_meters(s, meters, 0)
    add_meters(s, meters, 1)
    assert len(s.write()) == meters and not s.pending
    assert len(calls) == 1
    for number in range(meters):
        path = tmp_path / f"meter-{number}" / "2026-06-21.csv"
        assert [row[2] for row in rows(path)] == [format_kw((100 + number) * 10)] * 2
        day_file = s.day_file(f"meter-{number}", ms(2026, 6, 21, 12, 0, 0) / 1000)
        assert day_file.rows == 2
        assert s.interval_sums(f"meter-{number}", ms(2026, 6, 21, 12, 0, 0) // 1000).readings == 2


@needs_syncfs
def test_a_failed_syncfs_raises_output_error_and_keeps_the_rows_queued(tmp_path, monkeypatch):
    def failing(_fd: int) -> int:
        ctypes.set_errno(errno.EIO)
        return -1

    monkeypatch.setattr(writer_module, "_syncfs", failing)
    s = store(tmp_path, profile=flat(0))
    add_meters(s, writer_module.SYNCFS_MIN_FILES, 0)
    with pytest.raises(OutputError, match="syncfs"):
        s.write()
    assert s.pending
    assert s.interval_sums("meter-0", ms(2026, 6, 21, 12, 0, 0) // 1000).readings == 0  # not counted as written


def test_few_dirty_files_are_fsynced_each_without_syncfs(tmp_path, monkeypatch):
    monkeypatch.setattr(writer_module, "_syncfs", lambda _fd: pytest.fail("syncfs with few files"))
    s = store(tmp_path, profile=flat(0))
    add_meters(s, writer_module.SYNCFS_MIN_FILES - 1, 0)
    assert len(s.write()) == writer_module.SYNCFS_MIN_FILES - 1 and not s.pending


def test_syncfs_is_not_used_on_kernels_that_do_not_report_its_write_errors():
    assert find_syncfs("5.4.0-150-generic") is None
    assert find_syncfs("not-a-version") is None
    if os.uname().sysname == "Linux":
        assert find_syncfs("5.8.0") is not None
        assert find_syncfs("6.18.44-fc") is not None


def test_rows_written_in_one_batch_are_the_bytes_of_rows_written_one_by_one(tmp_path):
    # The fall-back day (two UTC offsets), powers of several widths up to 1 MW, negative net.
    start = ms(2026, 10, 25, 0, 30, 0)
    readings = [(start + k * 60_000, (-1) ** k * 1234.56 * k) for k in range(64)]
    readings += [(start + (64 + k) * 60_000, power_w) for k, power_w in
                 enumerate((25_000.04, -30_000.0, 0.0, 0.04, -0.04, 999_999.99, 7.0))]
    batched, single = store(tmp_path / "batched"), store(tmp_path / "single")
    for instant, power_w in readings:
        assert batched.add("meter-1", instant, power_w)
        assert single.add("meter-1", instant, power_w)
        single.write()
    batched.write()
    path = Path("meter-1") / "2026-10-25.csv"
    assert (tmp_path / "batched" / path).read_bytes() == (tmp_path / "single" / path).read_bytes()
    assert {row[0][-6:] for row in rows(tmp_path / "batched" / path)} == {"+02:00", "+01:00"}


def test_the_vectorised_kw_text_is_format_kw_for_every_value_within_20_kw_and_beyond():
    values = np.concatenate([np.arange(-200_000, 200_001), [10**7, -(10**8) + 1, 123_456_789]])
    text = store_format.decimals(values, 4)
    got = [bytes(row[row != 0]).decode() for row in text]
    assert got == [format_kw(int(v)) for v in values]


def test_running_totals_name_the_peaks_as_the_summary_of_the_file_does(tmp_path):
    s = store(tmp_path)
    start = ms(2026, 6, 21, 4, 0, 0)
    for k in range(300):  # net crosses zero both ways around the reference PV's morning ramp
        assert s.add("meter-1", start + k * 60_000, 400.0 + 300.0 * (k % 7))
    s.write()
    day_file = s.day_file("meter-1", start / 1000)
    path = tmp_path / "meter-1" / "2026-06-21.csv"
    assert day_file.totals.summary("meter-1", "2026-06-21", 60) == summarize_csv(path)
    assert day_file.totals.peak_import_at and day_file.totals.peak_export_at


def test_the_store_counts_the_dirty_day_files_that_a_write_will_create(tmp_path: Path) -> None:
    from models.pv.reference import ReferencePv

    store = CsvStore(tmp_path, ZoneInfo("UTC"), ReferencePv())
    start_ms = 1_782_000_000_000
    store.add("meter-1", start_ms, 100.0)
    store.write()
    assert store.new_dirty_files == 0
    store.add("meter-1", start_ms + 1000, 100.0)  # its file exists
    store.add("meter-2", start_ms, 100.0)
    store.add("meter-2", start_ms + 1000, 100.0)  # the same new file: counted once
    store.add("meter-3", start_ms, 100.0)
    assert store.new_dirty_files == 2
    store.write()
    assert store.new_dirty_files == 0
    assert CsvStore(tmp_path, ZoneInfo("UTC"), ReferencePv()).day_file("meter-2", start_ms / 1000).is_new is False
