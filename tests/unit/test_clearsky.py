"""Clear-sky PV model: night, solar noon, magnitude, seasons, shapes."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from common.clock import LocalDay
from models.pv.clearsky import clearsky_day_kw, clearsky_pv_kw
from models.pv.site import PvSite

BERLIN = ZoneInfo("Europe/Berlin")
SITE = PvSite()


@pytest.fixture(scope="module")
def midsummer() -> np.ndarray:
    return clearsky_day_kw(LocalDay(date(2026, 6, 21), BERLIN), SITE)


@pytest.fixture(scope="module")
def midwinter() -> np.ndarray:
    return clearsky_day_kw(LocalDay(date(2026, 12, 21), BERLIN), SITE)


def test_day_is_float_array_of_one_value_per_wall_clock_second(midsummer: np.ndarray) -> None:
    assert midsummer.shape == (86_400,)
    assert midsummer.dtype == np.float64
    assert np.isfinite(midsummer).all()


def test_day_is_zero_at_night_and_never_negative_nor_above_inverter(midsummer: np.ndarray) -> None:
    assert midsummer[: 3 * 3600].max() == 0.0  # 00:00-03:00 CEST
    assert midsummer[23 * 3600 :].max() == 0.0
    assert midsummer.min() >= 0.0
    assert midsummer.max() <= SITE.inverter_capacity_kw


def test_south_facing_system_peaks_near_solar_noon_in_berlin(midsummer: np.ndarray) -> None:
    # Solar noon in Berlin on 21 June: 12:00 UTC - 13.405 deg * 4 min/deg + 1.7 min (equation of time) = 13:08 CEST.
    peak_s = int(np.argmax(midsummer))
    assert abs(peak_s - (13 * 3600 + 8 * 60)) <= 15 * 60


def test_default_5_kwp_system_peaks_near_4_kw_on_midsummer(midsummer: np.ndarray) -> None:
    assert 3.5 <= midsummer.max() <= 4.6
    energy_kwh = midsummer.sum() / 3600
    assert 25 <= energy_kwh <= 40  # a clear June day: 5-8 kWh per kWp


def test_winter_day_is_shorter_and_lower_than_midsummer(midsummer: np.ndarray, midwinter: np.ndarray) -> None:
    assert (midwinter > 0).sum() < (midsummer > 0).sum()
    assert midwinter.max() < midsummer.max()
    assert midwinter.sum() < midsummer.sum() / 2


def test_winter_peak_is_near_solar_noon_in_standard_time(midwinter: np.ndarray) -> None:
    # 12:00 UTC - 53.6 min (longitude) - 1.7 min (equation of time) = 12:05 CET.
    assert abs(int(np.argmax(midwinter)) - (12 * 3600 + 5 * 60)) <= 15 * 60


def test_day_matches_per_second_model_within_interpolation_error(midsummer: np.ndarray) -> None:
    day = LocalDay(date(2026, 6, 21), BERLIN)
    exact = clearsky_pv_kw(np.arange(day.start_s, day.end_s, 7), SITE)
    assert np.abs(midsummer[::7] - exact).max() < 0.005  # [kW], 0.1 % of capacity


def test_scalar_instant_gives_a_0d_array() -> None:
    noon = LocalDay(date(2026, 6, 21), BERLIN).start_s + 13 * 3600
    power = clearsky_pv_kw(noon, SITE)
    assert isinstance(power, np.ndarray)
    assert power.shape == ()
    assert 3.0 < float(power) <= SITE.inverter_capacity_kw


def test_array_input_keeps_its_shape_and_midnight_is_zero() -> None:
    day = LocalDay(date(2026, 6, 21), BERLIN)
    instants = np.array([[day.start_s, day.start_s + 13 * 3600], [day.start_s + 6 * 3600, day.end_s - 1]])
    power = clearsky_pv_kw(instants, SITE)
    assert power.shape == (2, 2)
    assert power[0, 0] == 0.0
    assert power[1, 1] == 0.0
    assert power[0, 1] > power[1, 0] > 0.0


def test_small_inverter_clips_the_peak() -> None:
    site = PvSite(inverter_capacity_kw=2.0)
    day = clearsky_day_kw(LocalDay(date(2026, 6, 21), BERLIN), site)
    assert day.max() == pytest.approx(2.0)
    assert (day >= 2.0 - 1e-9).sum() > 3600  # clipped for hours


def test_north_facing_steep_system_yields_less_than_south() -> None:
    day = LocalDay(date(2026, 3, 20), BERLIN)
    south = clearsky_day_kw(day, SITE).sum()
    north = clearsky_day_kw(day, PvSite(surface_azimuth=0.0, surface_tilt=60.0)).sum()
    assert north < south / 2


def test_days_when_clocks_change_are_complete_and_zero_at_night() -> None:
    for day in (date(2026, 3, 29), date(2026, 10, 25)):
        power = clearsky_day_kw(LocalDay(day, BERLIN), SITE)
        assert power.shape == (86_400,)
        assert power[:3600].max() == 0.0
        assert power.max() > 2.0


@pytest.mark.parametrize(
    "bad", [{"dc_capacity_kw": 0.0}, {"inverter_capacity_kw": -1.0}, {"surface_tilt": 95.0}, {"losses_percent": 100.0}]
)
def test_site_rejects_impossible_values(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        PvSite(**bad)  # type: ignore[arg-type]
