"""Live results: interval sums, when intervals are due, and the published bodies."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from common.schema import parse_interval_result, parse_run_complete
from pv_simulator.results import (
    RECENT_INTERVALS,
    IntervalSums,
    IntervalTracker,
    Sums,
    interval_body,
    interval_start,
    run_complete_body,
)
from pv_simulator.writer import CsvStore

START = 1_782_000_000  # 2026-06-21T00:00:00Z, a multiple of 60


def test_interval_start_is_aligned_to_the_epoch() -> None:
    assert interval_start(START + 59, 60) == START
    assert interval_start(START + 60, 60) == START + 60
    assert interval_start(START + 1799, 900) == START + 900


def test_sums_are_exact_integers_per_interval() -> None:
    sums = IntervalSums(START, START + 86_400, 60)
    sums.add(START, 12_345, 1_000)
    sums.add(START + 59, 1, 2)
    sums.add(START + 60, 7, 0)
    assert sums.get(START) == Sums(2, 12_346, 1_002, 11_345)  # import: 11,345 from the first row, none from the second
    assert sums.get(START + 60) == Sums(1, 7, 0, 7)
    assert sums.get(START + 120) == Sums()
    assert sums.get(START - 60) == Sums() and sums.get(START + 86_400) == Sums()


def test_a_span_not_aligned_to_the_interval_starts_with_a_partial_interval() -> None:
    # A local day starting at a :30 offset (India) with hourly intervals.
    sums = IntervalSums(START + 1800, START + 1800 + 86_400, 3600, recent=None)
    sums.add(START + 1800, 10, 0)
    sums.add(START + 86_400 + 1799, 20, 0)
    assert sums.get(START) == Sums(1, 10, 0, 10)
    assert sums.get(START + 86_400) == Sums(1, 20, 0, 20)


def test_only_recent_intervals_are_held_and_an_earlier_one_says_it_is_not() -> None:
    sums = IntervalSums(START, START + 86_400, 60)
    sums.add(START, 5, 0)
    sums.add(START + 60 * RECENT_INTERVALS, 7, 0)  # the interval open before stays held: it may be due now
    assert sums.get(START) == Sums(1, 5, 0, 5)
    sums.add(START + 60 * (RECENT_INTERVALS + 1), 7, 0)  # the window moves on: the first interval is let go
    assert sums.get(START) is None and sums.get(START + 60) is None
    assert sums.get(START + 120) == Sums()  # held: no row yet
    assert sums.get(START + 60 * RECENT_INTERVALS) == Sums(1, 7, 0, 7)
    sums.add(START + 1, 5, 0)  # a late row before the window is not counted (partial sums would be wrong)
    assert sums.get(START) is None
    assert sums.get(START + 3600) == Sums()  # after every counted row: empty


def test_a_write_spanning_many_intervals_holds_each_of_them_until_the_next_one() -> None:
    sums = IntervalSums(START, START + 86_400, 60)
    seconds = np.arange(START, START + 6000, 10, dtype=np.int64)  # 100 intervals of 6 rows
    sums.add_rows(seconds, np.full(600, 100, dtype=np.int64), np.zeros(600, dtype=np.int64))
    assert all(sums.get(START + 60 * k) == Sums(6, 600, 0, 600) for k in range(100))
    sums.add(START + 6000, 1, 0)  # the next row keeps only the recent intervals
    assert sums.get(START + 60 * 99) == Sums(6, 600, 0, 600)
    assert sums.get(START + 60 * (100 - RECENT_INTERVALS)) is None


def test_trimming_after_a_whole_file_keeps_the_recent_intervals() -> None:
    sums = IntervalSums(START, START + 86_400, 60)
    seconds = np.arange(START, START + 86_400, 60, dtype=np.int64)
    sums.add_rows(seconds, np.ones(1440, dtype=np.int64), np.zeros(1440, dtype=np.int64))
    sums.trim()
    assert sums.get(START + 86_340) == Sums(1, 1, 0, 1)
    assert sums.get(START + 86_400 - 60 * RECENT_INTERVALS) == Sums(1, 1, 0, 1)
    assert sums.get(START + 86_400 - 60 * (RECENT_INTERVALS + 1)) is None


def test_an_interval_is_due_when_a_later_reading_of_the_same_meter_arrives() -> None:
    tracker = IntervalTracker(60)
    for second in range(60):
        tracker.row("m1", START + second)
    tracker.row("m2", START + 60)  # another meter closes nothing of m1
    assert not tracker.pending
    tracker.row("m1", START + 60)
    assert tracker.take() == [("m1", START)]
    assert not tracker.pending


def test_the_open_interval_is_due_when_the_run_ends() -> None:
    tracker = IntervalTracker(60)
    tracker.row("m1", START + 5)
    tracker.close("m1")
    assert tracker.take() == [("m1", START)]
    tracker.close("m1")  # nothing open any more
    assert tracker.take() == []


def test_a_late_row_or_a_duplicate_makes_its_closed_interval_due_again() -> None:
    # A duplicate of a closed interval: an earlier process wrote it and may have stopped before publishing
    # that interval; the broker handed its readings back after newer ones (issue #21 section 5).
    tracker = IntervalTracker(60)
    tracker.row("m1", START)
    tracker.row("m1", START + 120)
    assert tracker.take() == [("m1", START)]
    tracker.row("m1", START + 1)  # duplicate
    assert tracker.take() == [("m1", START)]
    tracker.row("m1", START + 2)  # late
    tracker.row("m1", START + 61)  # late, an interval that never had a row
    assert tracker.take() == [("m1", START), ("m1", START + 60)]


def test_duplicates_still_move_the_open_interval_forward() -> None:
    tracker = IntervalTracker(60)
    tracker.row("m1", START)
    tracker.row("m1", START + 60)
    assert tracker.take() == [("m1", START)]


def test_retried_intervals_are_due_again() -> None:
    tracker = IntervalTracker(60)
    tracker.retry([("m1", START), ("m2", START)])
    tracker.mark("m1", START + 61)
    assert tracker.take() == [("m1", START), ("m1", START + 60), ("m2", START)]


def test_interval_body_follows_the_wire_contract_with_exact_means() -> None:
    body = interval_body("meter-1", START, 60, Sums(3, 3 * 12_345 + 1, 3 * 10_000, 3 * 2_345 + 1))
    result = parse_interval_result(body)
    assert result.meter_id == "meter-1" and result.readings == 3 and result.interval_s == 60
    assert body.count(b'"interval_start":"2026-06-21T00:00:00Z"') == 1
    assert result.meter_power_kw == pytest.approx((3 * 12_345 + 1) / 3 / 10_000, abs=1e-7)
    assert result.pv_power_kw == 1.0
    assert result.net_power_kw == pytest.approx(result.meter_power_kw - result.pv_power_kw, abs=2e-7)


def test_interval_body_carries_imports_and_exports_that_a_mean_of_net_would_cancel() -> None:
    sums = IntervalSums(START, START + 86_400, 60)
    sums.add(START, 30_000, 10_000)  # imports 2 kW
    sums.add(START + 1, 10_000, 30_000)  # exports 2 kW
    result = parse_interval_result(interval_body("meter-1", START, 60, sums.get(START)))
    assert result.net_power_kw == 0.0
    assert result.import_power_kw == 1.0 and result.export_power_kw == 1.0  # means over 2 rows [kW]


def test_interval_body_without_battery_sums_has_no_battery_fields_and_readers_accept_that() -> None:
    body = interval_body("meter-1", START, 60, Sums(1, 10_000, 0, 10_000))
    assert b"battery" not in body
    result = parse_interval_result(body)
    assert result.battery_power_kw is None and result.battery_soc_kwh is None


def test_interval_body_carries_the_batterys_mean_power_and_end_soc_and_nets_it() -> None:
    # meter 2 kW, PV 3 kW, the battery charges 0.8 kW of the surplus: net = 2 - 3 + 0.8 = -0.2 kW
    sums = Sums(2, 2 * 20_000, 2 * 30_000, 0, battery_dw=2 * 8_000, battery_soc_dwh=32_101)
    result = parse_interval_result(interval_body("meter-1", START, 60, sums))
    assert result.battery_power_kw == 0.8 and result.battery_soc_kwh == 3.2101
    assert result.net_power_kw == pytest.approx(-0.2, abs=1e-9)
    assert result.import_power_kw == 0.0 and result.export_power_kw == pytest.approx(0.2, abs=1e-9)


def test_sums_of_an_interval_over_two_day_files_add_in_time_order_keeping_the_later_soc() -> None:
    earlier = Sums(1, 10, 0, 10, battery_dw=-5, battery_soc_dwh=100)
    later = Sums(1, 10, 0, 10, battery_dw=-5, battery_soc_dwh=95)
    assert Sums() + earlier + later == Sums(2, 20, 0, 20, -10, 95)
    assert earlier + Sums() == earlier  # a day file without rows in the interval keeps the SoC
    assert Sums(1, 1, 0, 1) + Sums(1, 1, 0, 1) == Sums(2, 2, 0, 2)  # no battery: the fields stay None


def test_an_empty_interval_has_no_body() -> None:
    with pytest.raises(ValueError, match="no readings"):
        interval_body("meter-1", START, 60, Sums())


def test_run_complete_body_follows_the_wire_contract() -> None:
    body = run_complete_body("run-1", ("meter-1", "meter-2"), "meter-2", 1440, 60, START, START + 1439 * 60)
    notice = parse_run_complete(body)
    assert notice.meter_id == "meter-2" and notice.meters == ["meter-1", "meter-2"] and notice.readings == 1440
    assert b'"last_timestamp":"2026-06-21T23:59:00Z"' in body


def test_store_sums_include_rows_on_disk_after_a_restart(tmp_path: Path) -> None:
    tz = ZoneInfo("Europe/Berlin")
    first = CsvStore(tmp_path, tz, lambda _day: (500,) * 86_400)
    for second in range(30):
        first.add("meter-1", (START + second) * 1000, 100.0)
    first.write()
    second_start = CsvStore(tmp_path, tz, lambda _day: (500,) * 86_400)  # a new process: index and sums from disk
    for second in range(30, 60):
        second_start.add("meter-1", (START + second) * 1000, 200.0)
    assert second_start.interval_sums("meter-1", START).readings == 30  # sums count rows once written
    second_start.write()
    assert second_start.interval_sums("meter-1", START) == Sums(
        60, 30 * 1000 + 30 * 2000, 60 * 500, 30 * 500 + 30 * 1500)
    assert second_start.held_before("meter-1", START + 30) == START + 29
    assert second_start.held_before("meter-1", START) is None


def test_held_before_looks_back_into_the_previous_day_file(tmp_path: Path) -> None:
    store = CsvStore(tmp_path, ZoneInfo("UTC"), lambda _day: (0,) * 86_400)
    store.add("meter-1", (START - 60) * 1000, 1.0)  # 23:59 the day before
    store.write()
    assert store.held_before("meter-1", START + 10) == START - 60


def test_a_late_row_in_an_interval_no_longer_held_is_counted_from_the_file(tmp_path: Path) -> None:
    store = CsvStore(tmp_path, ZoneInfo("Europe/Berlin"), lambda _day: (500,) * 86_400)
    for minute in range(3 * RECENT_INTERVALS):  # one write per row, like many meters: a window of recent intervals
        store.add("meter-1", (START + 60 * minute + 10) * 1000, 100.0)
        store.write()
    assert store.day_file("meter-1", START).intervals.get(START) is None
    store.add("meter-1", (START + 20) * 1000, 300.0)  # late, into the first interval
    assert store.interval_sums("meter-1", START) == Sums(1, 1000, 500, 500)  # the file as written so far
    store.write()
    assert store.interval_sums("meter-1", START) == Sums(2, 4000, 1000, 3000)
    assert store.interval_sums("meter-1", START + 60) == Sums(1, 1000, 500, 500)
    assert store.interval_sums("meter-1", START + 3600 * 5) == Sums()


def test_sums_with_a_battery_count_its_power_and_keep_the_soc_of_each_intervals_latest_row() -> None:
    one_by_one = IntervalSums(START, START + 86_400, 60, battery=True)
    at_once = IntervalSums(START, START + 86_400, 60, battery=True)
    # (instant, meter, PV, battery, SoC): the third row is late (earlier than the second) and must not win
    rows = [(START, 10_000, 30_000, 15_000, 100), (START + 30, 10_000, 30_000, 15_000, 300),
            (START + 10, 10_000, 30_000, 15_000, 200), (START + 60, 20_000, 0, -5_000, 250)]
    for epoch_s, meter_dw, pv_dw, battery_dw, soc_dwh in rows:
        one_by_one.add(epoch_s, meter_dw, pv_dw, battery_dw, soc_dwh)
    at_once.add_rows(*(np.array(column, dtype=np.int64) for column in zip(*rows, strict=True)))
    for sums in (one_by_one, at_once):
        # import: net = meter - PV + battery = -0.5 kW in the first interval (nothing), 1.5 kW in the second
        assert sums.get(START) == Sums(3, 30_000, 90_000, 0, 45_000, 300)
        assert sums.get(START + 60) == Sums(1, 20_000, 0, 15_000, -5_000, 250)
        assert sums.get(START + 120) == Sums()  # held or not: no rows, no battery figures
    result = parse_interval_result(interval_body("meter-1", START, 60, one_by_one.get(START)))
    assert (result.battery_power_kw, result.battery_soc_kwh) == (1.5, 0.03)
    assert result.net_power_kw == -0.5 and result.export_power_kw == 0.5


def test_battery_sums_survive_the_window_moving_and_need_the_battery_columns() -> None:
    sums = IntervalSums(START, START + 86_400, 60, battery=True)
    sums.add(START, 1, 0, 2, 7)
    sums.add(START + 60 * RECENT_INTERVALS, 1, 0, 2, 9)  # the window grows: the battery columns move with it
    assert sums.get(START) == Sums(1, 1, 0, 3, 2, 7)
    with pytest.raises(ValueError, match="battery"):
        sums.add_rows(np.array([START], dtype=np.int64), np.array([1], dtype=np.int64), np.array([0], dtype=np.int64))
