"""Gaussian and BDEW 2025 load profiles: range, rounding, determinism, energy and daily shape."""

from __future__ import annotations

import warnings
from datetime import date, timedelta

import numpy as np
import pytest

from models.load.bdew import PROFILES, bdew_profile_w, german_holidays
from models.load.gaussian import gaussian_w

WALL = np.arange(86_400)
HOUR = 3600


def bare(day: date, profile: str, annual_kwh: float = 4000.0) -> np.ndarray:
    """The noise-free profile of a day at every wall-clock second [W]."""
    return bdew_profile_w(day, WALL, annual_kwh, profile, np.random.default_rng(0), noise_fraction=0.0)


# -- gaussian ---------------------------------------------------------------------------------
def test_gaussian_has_requested_mean_and_spread() -> None:
    power = gaussian_w(100_000, 3000.0, 500.0, np.random.default_rng(1))
    assert power.shape == (100_000,)
    assert power.mean() == pytest.approx(3000.0, abs=10.0)
    assert power.std() == pytest.approx(500.0, rel=0.02)


def test_gaussian_is_clipped_to_meter_range_and_rounded_to_tenth_watt() -> None:
    power = gaussian_w(10_000, 8500.0, 3000.0, np.random.default_rng(2))
    assert power.min() >= 0.0
    assert power.max() <= 9000.0
    assert (power == 9000.0).any()
    assert (power == 0.0).any()
    np.testing.assert_array_equal(power, np.round(power, 1))


def test_gaussian_is_deterministic_for_a_seed() -> None:
    first = gaussian_w(50, 2000.0, 300.0, np.random.default_rng(7))
    again = gaussian_w(50, 2000.0, 300.0, np.random.default_rng(7))
    other = gaussian_w(50, 2000.0, 300.0, np.random.default_rng(8))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_gaussian_rejects_negative_spread() -> None:
    with pytest.raises(ValueError):
        gaussian_w(3, 1000.0, -1.0, np.random.default_rng(0))


# -- BDEW ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("profile", PROFILES)
def test_bdew_is_within_meter_range_and_rounded(profile: str) -> None:
    power = bdew_profile_w(date(2026, 1, 14), WALL, 60_000.0, profile, np.random.default_rng(3), noise_fraction=0.5)
    assert power.shape == (86_400,)
    assert power.min() >= 0.0
    assert power.max() <= 9000.0
    np.testing.assert_array_equal(power, np.round(power, 1))


@pytest.mark.parametrize("profile", PROFILES)
def test_bdew_is_deterministic_for_a_seed(profile: str) -> None:
    day = date(2026, 6, 21)
    first = bdew_profile_w(day, WALL, 4000.0, profile, np.random.default_rng(11))
    again = bdew_profile_w(day, WALL, 4000.0, profile, np.random.default_rng(11))
    other = bdew_profile_w(day, WALL, 4000.0, profile, np.random.default_rng(12))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("day", [date(2026, 1, 14), date(2026, 6, 21), date(2026, 6, 22), date(2026, 10, 3)])
def test_bdew_daily_energy_is_near_annual_over_365(profile: str, day: date) -> None:
    power = bdew_profile_w(day, WALL, 4000.0, profile, np.random.default_rng(5))
    energy_kwh = power.sum() / 3600 / 1000
    assert energy_kwh == pytest.approx(4000.0 / 365, rel=0.6)


@pytest.mark.parametrize("profile", PROFILES)
def test_bdew_year_energy_is_the_annual_consumption(profile: str) -> None:
    quarters = WALL[::900]  # one reading per quarter hour stands for its 900 s
    rng = np.random.default_rng(0)
    days = (date(2027, 1, 1) + timedelta(days=k) for k in range(365))
    year_kwh = sum(bdew_profile_w(day, quarters, 4000.0, profile, rng, 0.0).sum() for day in days) * 900 / 3600 / 1000
    assert year_kwh == pytest.approx(4000.0, rel=1e-4)  # only the 0.1 W rounding differs


def test_bdew_scales_linearly_with_annual_consumption() -> None:
    small, large = bare(date(2026, 3, 3), "H25", 2000.0), bare(date(2026, 3, 3), "H25", 4000.0)
    np.testing.assert_allclose(large, 2 * small, atol=0.1)


def test_bdew_holds_each_quarter_hour_value() -> None:
    power = bare(date(2026, 6, 21), "H25").reshape(96, 900)
    assert (power == power[:, :1]).all()
    assert len(np.unique(power[:, 0])) > 20


def test_h25_evening_peak_is_above_night_minimum() -> None:
    for day in (date(2026, 1, 14), date(2026, 6, 22)):
        power = bare(day, "H25")
        evening = power[18 * HOUR : 22 * HOUR].max()
        night = power[1 * HOUR : 5 * HOUR].min()
        assert evening > 1.5 * night


def test_g25_weekday_daytime_is_above_night_and_above_sunday() -> None:
    monday, sunday = bare(date(2026, 6, 22), "G25"), bare(date(2026, 6, 21), "G25")
    daytime = slice(9 * HOUR, 16 * HOUR)
    assert monday[daytime].mean() > 2 * monday[0 : 5 * HOUR].mean()
    assert monday[daytime].mean() > 1.5 * sunday[daytime].mean()


def test_g25_public_holiday_looks_like_a_sunday() -> None:
    unity_day = bare(date(2026, 10, 3), "G25")  # a Saturday in 2026, taken as a holiday
    next_sunday = bare(date(2026, 10, 4), "G25")
    np.testing.assert_allclose(unity_day, next_sunday, rtol=0.0, atol=0.1)


def test_german_holidays_include_easter_based_dates() -> None:
    days = german_holidays(2026)  # Easter Sunday: 5 April 2026
    assert date(2026, 4, 3) in days  # Good Friday
    assert date(2026, 5, 14) in days  # Ascension
    assert date(2026, 5, 25) in days  # Whit Monday
    assert len(days) == 9


def test_bdew_scalar_wall_second_gives_one_value() -> None:
    power = bdew_profile_w(date(2026, 6, 21), 3600, 4000.0, "H25", np.random.default_rng(0), 0.0)
    assert power.shape == (1,)
    assert power[0] == bare(date(2026, 6, 21), "H25")[3600]


def test_bdew_leaves_global_warning_filters_alone() -> None:
    before = list(warnings.filters)
    bdew_profile_w(date(2031, 5, 5), WALL[:10], 4000.0, "G25", np.random.default_rng(0))  # a year not cached yet
    assert list(warnings.filters) == before


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"profile": "H0"}, "unknown"), ({"annual_kwh": 0.0}, "annual_kwh"), ({"noise_fraction": -0.1}, "noise")],
)
def test_bdew_rejects_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"annual_kwh": 4000.0, "profile": "H25", "noise_fraction": 0.1} | kwargs
    with pytest.raises(ValueError, match=message):
        bdew_profile_w(date(2026, 1, 1), WALL[:5], rng=np.random.default_rng(0), **arguments)  # type: ignore[arg-type]
