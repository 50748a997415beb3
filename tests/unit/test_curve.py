"""Unit tests of the reference PV curve (models/pv/reference.py)."""

from __future__ import annotations

import numpy as np
import pytest

from models.pv.profile import SECONDS_PER_DAY
from models.pv.reference import reference_day_dw, reference_pv_kw

H = 3600
ALL_SECONDS = np.arange(SECONDS_PER_DAY)


def test_power_is_zero_at_night_before_five_and_after_nine_pm():
    night = np.concatenate([np.arange(0, 5 * H), np.arange(21 * H + 1, SECONDS_PER_DAY)])
    power = reference_pv_kw(night)
    assert np.all(power == 0.0)


def test_power_at_the_boundaries_of_the_day_is_negligible():
    assert reference_pv_kw(5 * H) == pytest.approx(0.0, abs=1e-9)
    assert reference_pv_kw(21 * H) == pytest.approx(0.0, abs=1e-9)


def test_power_is_positive_around_midday():
    assert np.all(reference_pv_kw(np.arange(7 * H, 20 * H, 60)) > 0.0)


def test_peak_is_about_3_24_kw_near_14_10():
    power = reference_pv_kw(ALL_SECONDS)
    peak_at = int(np.argmax(power))
    assert abs(peak_at - (14 * H + 10 * 60)) <= 10 * 60
    assert power.max() == pytest.approx(3.24, abs=0.02)


def test_power_rises_hourly_from_6_to_14_and_falls_hourly_from_15_to_20():
    rising = reference_pv_kw(np.arange(6, 15) * H)
    falling = reference_pv_kw(np.arange(15, 21) * H)
    assert np.all(np.diff(rising) > 0), rising
    assert np.all(np.diff(falling) < 0), falling


def test_power_is_never_negative_on_any_second_of_the_day():
    power = reference_pv_kw(ALL_SECONDS)
    assert power.min() >= 0.0
    assert np.all(np.isfinite(power))


def test_scalar_input_gives_a_zero_dimensional_result():
    value = reference_pv_kw(14 * H)
    assert np.shape(value) == ()
    assert float(value) == pytest.approx(3.23, abs=0.02)


@pytest.mark.parametrize("shape", [(5,), (2, 3), (4, 1, 2)])
def test_array_input_keeps_its_shape(shape):
    seconds = np.linspace(6 * H, 20 * H, int(np.prod(shape))).reshape(shape)
    power = reference_pv_kw(seconds)
    assert power.shape == shape
    np.testing.assert_array_equal(power.ravel(), reference_pv_kw(seconds.ravel()))


def test_list_input_is_accepted_like_an_array():
    np.testing.assert_array_equal(reference_pv_kw([0, 14 * H]), reference_pv_kw(np.array([0, 14 * H])))


def test_nan_input_gives_zero_power_not_nan():
    # Documented behaviour: NaN clock times fall outside the interpolator's range and map to 0 kW.
    assert reference_pv_kw(np.nan) == 0.0
    power = reference_pv_kw(np.array([np.nan, 14 * H]))
    assert power[0] == 0.0
    assert power[1] > 3.0


def test_times_outside_the_day_give_zero():
    assert np.all(reference_pv_kw(np.array([-1.0, -14 * H, SECONDS_PER_DAY, 2 * SECONDS_PER_DAY])) == 0.0)


@pytest.mark.parametrize("peak", [1.0, 6.48, 10.0])
def test_peak_kw_scales_the_curve_to_that_peak(peak):
    default = reference_pv_kw(ALL_SECONDS)
    scaled = reference_pv_kw(ALL_SECONDS, peak_kw=peak)
    assert scaled.max() == pytest.approx(peak, rel=1e-9)
    ratio = peak / default.max()
    np.testing.assert_allclose(scaled, default * ratio, rtol=1e-12, atol=1e-15)
    assert int(np.argmax(scaled)) == int(np.argmax(default))


def test_peak_kw_zero_gives_a_flat_zero_curve():
    assert np.all(reference_pv_kw(ALL_SECONDS, peak_kw=0.0) == 0.0)


def test_reference_day_has_one_integer_value_per_second():
    day = reference_day_dw()
    assert isinstance(day, tuple)
    assert len(day) == SECONDS_PER_DAY
    assert all(isinstance(v, int) for v in day[::997])


def test_reference_day_is_the_curve_in_tenths_of_a_watt():
    day = np.array(reference_day_dw())
    expected = np.rint(reference_pv_kw(ALL_SECONDS) * 10_000).astype(np.int64)
    np.testing.assert_array_equal(day, expected)
    assert day.min() == 0
    assert day[14 * H] == round(float(reference_pv_kw(14 * H)) * 10_000)


def test_reference_day_with_peak_kw_is_scaled():
    day = np.array(reference_day_dw(6.48))
    assert day.max() == 64_800
    np.testing.assert_array_equal(day, np.rint(reference_pv_kw(ALL_SECONDS, 6.48) * 10_000).astype(np.int64))


def test_daily_energy_is_about_26_7_kwh():
    energy_kwh = reference_pv_kw(ALL_SECONDS).sum() / 3600.0
    assert energy_kwh == pytest.approx(26.7, abs=0.15)
    energy_from_dw = sum(reference_day_dw()) / 10_000 / 3600.0
    assert energy_from_dw == pytest.approx(energy_kwh, abs=0.01)


def test_the_numpy_pchip_gives_scipys_floats_exactly():
    from scipy.interpolate import PchipInterpolator

    from models.pv.reference import _curve_points

    seconds, power = _curve_points()
    times = np.concatenate([np.arange(-10.0, SECONDS_PER_DAY + 10.0), np.arange(0.0, SECONDS_PER_DAY, 0.37)])
    expected = np.nan_to_num(PchipInterpolator(seconds, power, extrapolate=False)(times), nan=0.0).clip(0.0)
    assert np.array_equal(reference_pv_kw(times), expected)
