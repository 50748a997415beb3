"""Unit tests of the emulated clock (common/clock.py)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from common.clock import LocalDay, Pacer, day_bounds_s, local_date

BERLIN = ZoneInfo("Europe/Berlin")
NORMAL_DAY = date(2026, 6, 21)
SPRING_FORWARD = date(2026, 3, 29)
FALL_BACK = date(2026, 10, 25)


def epoch(*args: int, tz=UTC) -> int:
    return int(datetime(*args, tzinfo=tz).timestamp())


# -- day_bounds_s ------------------------------------------------------------------------------
def test_day_bounds_of_a_normal_summer_day_are_local_midnights_86400_s_apart():
    start, end = day_bounds_s(NORMAL_DAY, BERLIN)
    assert start == epoch(2026, 6, 20, 22, 0, 0)
    assert end == epoch(2026, 6, 21, 22, 0, 0)
    assert end - start == 86_400


def test_day_bounds_of_a_winter_day_start_at_23_utc():
    start, end = day_bounds_s(date(2026, 1, 15), BERLIN)
    assert start == epoch(2026, 1, 14, 23, 0, 0)
    assert end - start == 86_400


def test_spring_forward_day_lasts_82800_s():
    start, end = day_bounds_s(SPRING_FORWARD, BERLIN)
    assert start == epoch(2026, 3, 28, 23, 0, 0)
    assert end == epoch(2026, 3, 29, 22, 0, 0)
    assert end - start == 82_800


def test_fall_back_day_lasts_90000_s():
    start, end = day_bounds_s(FALL_BACK, BERLIN)
    assert start == epoch(2026, 10, 24, 22, 0, 0)
    assert end == epoch(2026, 10, 25, 23, 0, 0)
    assert end - start == 90_000


def test_consecutive_days_are_contiguous():
    _, end = day_bounds_s(date(2026, 10, 24), BERLIN)
    start, _ = day_bounds_s(FALL_BACK, BERLIN)
    assert end == start


# -- LocalDay ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("day", "length"), [(NORMAL_DAY, 86_400), (SPRING_FORWARD, 82_800), (FALL_BACK, 90_000)]
)
def test_timestamps_every_second_cover_the_whole_local_day(day, length):
    local_day = LocalDay(day, BERLIN)
    ts = local_day.timestamps_s(1)
    assert local_day.length_s == length
    assert len(ts) == length
    assert ts.dtype == np.int64
    assert ts[0] == local_day.start_s
    assert ts[-1] == local_day.end_s - 1
    assert np.all(np.diff(ts) == 1)


@pytest.mark.parametrize(("day", "count"), [(NORMAL_DAY, 1440), (SPRING_FORWARD, 1380), (FALL_BACK, 1500)])
def test_timestamps_every_minute(day, count):
    local_day = LocalDay(day, BERLIN)
    ts = local_day.timestamps_s(60)
    assert len(ts) == count
    assert np.all(np.diff(ts) == 60)
    assert ts[0] == local_day.start_s


def test_timestamps_with_an_interval_that_does_not_divide_the_day_round_up():
    local_day = LocalDay(NORMAL_DAY, BERLIN)
    ts = local_day.timestamps_s(7)
    assert len(ts) == -(-86_400 // 7)
    assert ts[-1] < local_day.end_s


def test_wall_seconds_maps_local_midnight_to_zero_and_14h_to_50400():
    local_day = LocalDay(NORMAL_DAY, BERLIN)
    assert local_day.wall_seconds(local_day.start_s) == 0
    assert local_day.wall_seconds(epoch(2026, 6, 21, 12, 0, 0)) == 50_400  # 14:00 CEST
    assert local_day.wall_seconds(local_day.end_s - 1) == 86_399


def test_wall_seconds_is_vectorised_and_keeps_shape():
    local_day = LocalDay(NORMAL_DAY, BERLIN)
    ts = local_day.timestamps_s(1)
    wall = local_day.wall_seconds(ts)
    assert wall.shape == ts.shape
    np.testing.assert_array_equal(wall, np.arange(86_400))


def test_wall_seconds_on_the_fall_back_day_repeat_the_2am_hour():
    local_day = LocalDay(FALL_BACK, BERLIN)
    wall = local_day.wall_seconds(local_day.timestamps_s(1))
    assert len(np.unique(wall)) == 86_400
    counts = np.bincount(wall, minlength=86_400)
    assert np.all(counts[2 * 3600 : 3 * 3600] == 2)
    assert np.all(counts[: 2 * 3600] == 1)
    assert np.all(counts[3 * 3600 :] == 1)
    # 00:30 UTC is 02:30 CEST, 01:30 UTC is 02:30 CET
    assert local_day.wall_seconds(epoch(2026, 10, 25, 0, 30, 0)) == 9_000
    assert local_day.wall_seconds(epoch(2026, 10, 25, 1, 30, 0)) == 9_000


def test_wall_seconds_on_the_spring_forward_day_skip_the_2am_hour():
    local_day = LocalDay(SPRING_FORWARD, BERLIN)
    wall = local_day.wall_seconds(local_day.timestamps_s(1))
    counts = np.bincount(wall, minlength=86_400)
    assert np.all(counts[2 * 3600 : 3 * 3600] == 0)
    assert counts.sum() == 82_800
    assert wall[-1] == 86_399


def test_utc_offset_is_7200_in_summer_and_3600_in_winter():
    assert LocalDay(NORMAL_DAY, BERLIN).utc_offset_s(epoch(2026, 6, 21, 12, 0, 0)) == 7200
    assert LocalDay(date(2026, 1, 15), BERLIN).utc_offset_s(epoch(2026, 1, 15, 12, 0, 0)) == 3600


def test_utc_offset_changes_within_the_fall_back_day():
    local_day = LocalDay(FALL_BACK, BERLIN)
    offsets = local_day.utc_offset_s([epoch(2026, 10, 25, 0, 59, 59), epoch(2026, 10, 25, 1, 0, 0)])
    np.testing.assert_array_equal(offsets, [7200, 3600])


def test_local_date_around_midnight():
    # 21:59:59Z on 2026-06-21 is 23:59:59 CEST on the 21st; one second later it is the 22nd.
    assert local_date(epoch(2026, 6, 21, 21, 59, 59), BERLIN) == date(2026, 6, 21)
    assert local_date(epoch(2026, 6, 21, 22, 0, 0), BERLIN) == date(2026, 6, 22)
    assert local_date(epoch(2026, 6, 21, 22, 0, 0), ZoneInfo("UTC")) == date(2026, 6, 21)


def test_local_day_of_an_instant_contains_it():
    moment = epoch(2026, 6, 21, 23, 30, 0)
    local_day = LocalDay(local_date(moment, BERLIN), BERLIN)
    assert local_day.day == date(2026, 6, 22)
    assert local_day.contains(moment)
    assert local_day.contains(local_day.start_s)
    assert not local_day.contains(local_day.end_s)
    assert not local_day.contains(local_day.start_s - 1)


def test_utc_site_days_start_at_utc_midnight():
    local_day = LocalDay(NORMAL_DAY, ZoneInfo("UTC"))
    assert local_day.start_s == epoch(2026, 6, 21, 0, 0, 0)
    assert local_day.length_s == 86_400
    assert local_day.utc_offset_s(local_day.start_s) == 0
    assert local_day.wall_seconds(epoch(2026, 6, 21, 14, 0, 0)) == 50_400


def test_new_york_offsets_and_fall_back_day():
    ny = ZoneInfo("America/New_York")
    assert LocalDay(NORMAL_DAY, ny).utc_offset_s(epoch(2026, 6, 21, 12, 0, 0)) == -4 * 3600
    assert LocalDay(date(2026, 1, 15), ny).utc_offset_s(epoch(2026, 1, 15, 12, 0, 0)) == -5 * 3600
    assert LocalDay(date(2026, 11, 1), ny).length_s == 90_000
    assert LocalDay(date(2026, 3, 8), ny).length_s == 82_800
    local_day = LocalDay(NORMAL_DAY, ny)
    assert local_day.start_s == epoch(2026, 6, 21, 4, 0, 0)
    assert local_day.wall_seconds(epoch(2026, 6, 21, 18, 0, 0)) == 50_400


def test_kolkata_has_a_half_hour_offset():
    kolkata = ZoneInfo("Asia/Kolkata")
    local_day = LocalDay(NORMAL_DAY, kolkata)
    assert local_day.start_s == epoch(2026, 6, 20, 18, 30, 0)
    assert local_day.utc_offset_s(local_day.start_s) == 19_800
    assert local_day.wall_seconds(local_day.start_s) == 0
    assert local_day.wall_seconds(epoch(2026, 6, 21, 8, 30, 0)) == 50_400
    assert local_day.length_s == 86_400


# -- Pacer -------------------------------------------------------------------------------------
class FakeClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_pacer_at_max_speed_never_waits():
    clock = FakeClock()
    pacer = Pacer(math.inf, now=clock)
    pacer.start(0)
    assert pacer.delay_s(0) == 0.0
    assert pacer.delay_s(1_000_000) == 0.0


def test_pacer_default_speed_is_max():
    pacer = Pacer()
    assert pacer.speed == math.inf
    assert pacer.delay_s(86_400) == 0.0


def test_pacer_in_real_time_waits_one_wall_second_per_emulated_second():
    clock = FakeClock()
    pacer = Pacer(1, now=clock)
    pacer.start(500)
    assert pacer.delay_s(500) == 0.0
    assert pacer.delay_s(501) == pytest.approx(1.0)
    assert pacer.delay_s(510) == pytest.approx(10.0)
    clock.t += 4.0
    assert pacer.delay_s(510) == pytest.approx(6.0)


def test_pacer_at_720x_runs_a_day_in_two_minutes():
    clock = FakeClock()
    pacer = Pacer(720, now=clock)
    pacer.start(0)
    assert pacer.delay_s(720) == pytest.approx(1.0)
    assert pacer.delay_s(86_400) == pytest.approx(120.0)
    clock.t += 60
    assert pacer.delay_s(86_400) == pytest.approx(60.0)


def test_pacer_anchors_on_the_first_delay_if_not_started():
    clock = FakeClock()
    pacer = Pacer(2, now=clock)
    assert pacer.delay_s(100) == 0.0
    assert pacer.delay_s(110) == pytest.approx(5.0)


def test_pacer_that_fell_behind_does_not_wait():
    clock = FakeClock()
    pacer = Pacer(1, now=clock)
    pacer.start(0)
    clock.t += 100
    assert pacer.delay_s(10) == 0.0
    assert pacer.delay_s(100) == 0.0
    assert pacer.delay_s(101) == pytest.approx(1.0)


@pytest.mark.parametrize("speed", [0, -1, -math.inf, math.nan])
def test_pacer_rejects_a_speed_that_is_not_positive(speed):
    with pytest.raises(ValueError, match="speed"):
        Pacer(speed)
