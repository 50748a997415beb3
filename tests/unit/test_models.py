"""Unit tests of the load models (models/load/)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from common.clock import LocalDay
from common.schema import MAX_POWER_W
from models.load.base import meter_rng
from models.load.random_walk import diurnal_mean_w, random_walk_w
from models.load.registry import MODELS, load_w
from models.load.uniform import uniform_w

BERLIN = ZoneInfo("Europe/Berlin")
DAYS = [date(2026, 6, 21), date(2026, 3, 29), date(2026, 10, 25), date(2026, 1, 1)]
WALL = np.arange(86_400)


def day_load(model: str, seed: int, meter: int, day: date, interval_s: int = 1) -> np.ndarray:
    local_day = LocalDay(day, BERLIN)
    wall = local_day.wall_seconds(local_day.timestamps_s(interval_s))
    return load_w(model, wall, interval_s, meter_rng(seed, meter, day.toordinal()), day)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("seed", [0, 1, 12345])
@pytest.mark.parametrize("day", DAYS)
def test_every_model_stays_within_0_and_9000_w(model, seed, day):
    power = day_load(model, seed, 1, day)
    assert power.min() >= 0.0
    assert power.max() <= MAX_POWER_W
    assert np.all(np.isfinite(power))
    assert len(power) == LocalDay(day, BERLIN).length_s


@pytest.mark.parametrize("model", MODELS)
def test_every_model_rounds_to_a_tenth_of_a_watt(model):
    power = day_load(model, 7, 2, DAYS[0])
    tenths = power * 10
    np.testing.assert_array_equal(tenths, np.round(tenths))
    assert not np.all(power == np.round(power))  # not coarser than 0.1 W


def test_random_walk_clips_an_extreme_walk_to_the_bounds():
    class Extreme:
        """A fake generator whose draws are huge, to drive the walk outside [0, 9000]."""

        def __init__(self, sign: float) -> None:
            self.sign = sign

        def standard_normal(self, size=None):
            return self.sign * (np.full(size, 100.0) if size is not None else 100.0)

    high = random_walk_w(WALL[:100], 1, Extreme(1.0))  # type: ignore[arg-type]
    low = random_walk_w(WALL[:100], 1, Extreme(-1.0))  # type: ignore[arg-type]
    assert np.all(high == MAX_POWER_W)
    assert np.all(low == 0.0)


@pytest.mark.parametrize("model", MODELS)
def test_same_seed_meter_and_day_give_identical_readings(model):
    np.testing.assert_array_equal(day_load(model, 42, 3, DAYS[0]), day_load(model, 42, 3, DAYS[0]))


@pytest.mark.parametrize("model", MODELS)
def test_different_seed_meter_or_day_give_different_readings(model):
    reference = day_load(model, 42, 3, DAYS[0])
    others = [
        day_load(model, 43, 3, DAYS[0]),
        day_load(model, 42, 4, DAYS[0]),
        day_load(model, 42, 3, date(2026, 6, 22)),
    ]
    for other in others:
        assert np.mean(other != reference) > 0.9


def test_meter_rng_streams_are_independent_of_call_order():
    a1 = meter_rng(0, 1, 700_000).standard_normal(5)
    meter_rng(0, 2, 700_000).standard_normal(1000)
    a2 = meter_rng(0, 1, 700_000).standard_normal(5)
    np.testing.assert_array_equal(a1, a2)


def test_random_walk_is_continuous_unlike_uniform_draws():
    walk = day_load("random-walk", 0, 1, DAYS[0])
    uniform = day_load("uniform", 0, 1, DAYS[0])
    walk_step = np.mean(np.abs(np.diff(walk)))
    uniform_step = np.mean(np.abs(np.diff(uniform)))
    assert uniform_step == pytest.approx(3000.0, rel=0.05)  # E|U1-U2| = 9000 / 3
    assert walk_step < uniform_step / 20
    assert np.max(np.abs(np.diff(walk))) < 1000.0


def test_random_walk_mean_follows_the_diurnal_mean():
    # average over several meters and days, hour by hour
    hourly = []
    for meter in range(1, 6):
        for ordinal_day in range(3):
            rng = meter_rng(9, meter, 739_000 + ordinal_day)
            hourly.append(random_walk_w(WALL, 1, rng).reshape(24, 3600).mean(axis=1))
    observed = np.mean(hourly, axis=0)
    expected = diurnal_mean_w(WALL).reshape(24, 3600).mean(axis=1)
    assert np.max(np.abs(observed - expected)) < 600.0
    assert np.corrcoef(observed, expected)[0, 1] > 0.9
    # evening peak above the night base load
    assert observed[19] > observed[3] + 1500.0


def test_random_walk_standard_deviation_is_about_700_w():
    walk = np.concatenate([random_walk_w(WALL, 1, meter_rng(1, m, 5)) - diurnal_mean_w(WALL) for m in range(1, 9)])
    assert np.std(walk) == pytest.approx(700.0, rel=0.25)


def test_diurnal_mean_has_the_documented_shape():
    mean = diurnal_mean_w(np.array([3 * 3600, 7.5 * 3600, 19.5 * 3600]))
    assert mean[0] == pytest.approx(1200.0, abs=50.0)
    assert mean[1] > 3000.0
    assert mean[2] > 4000.0
    assert diurnal_mean_w(0).shape == ()


def test_uniform_model_covers_the_whole_range():
    power = uniform_w(100_000, np.random.default_rng(0))
    assert power.shape == (100_000,)
    assert power.min() < 100.0
    assert power.max() > 8900.0
    assert power.mean() == pytest.approx(4500.0, rel=0.02)


@pytest.mark.parametrize("model", MODELS)
def test_load_w_output_has_one_value_per_clock_time(model):
    assert load_w(model, WALL[:123], 1, np.random.default_rng(0), DAYS[0]).shape == (123,)
    assert load_w(model, 5, 1, np.random.default_rng(0), DAYS[0]).shape == (1,)


@pytest.mark.parametrize("name", ["sine", "", "Uniform", "random_walk"])
def test_unknown_model_name_raises_value_error(name):
    with pytest.raises(ValueError, match="unknown load model"):
        load_w(name, WALL[:10], 1, np.random.default_rng(0))


@pytest.mark.parametrize("interval_s", [1, 10, 60, 900, 3600])
def test_ar1_filter_matches_scipy_lfilter(interval_s: int) -> None:
    from scipy.signal import lfilter

    from models.load.random_walk import ar1_filter

    rng = np.random.default_rng(interval_s)
    decay = float(np.exp(-interval_s / 600.0))
    shocks = rng.standard_normal(86_400 // interval_s) * 40.0
    expected, _ = lfilter([1.0], [1.0, -decay], shocks, zi=[decay * 123.0])
    np.testing.assert_allclose(ar1_filter(shocks, decay, 123.0), expected, rtol=0, atol=1e-9)


def test_ar1_filter_rejects_a_decay_outside_0_1() -> None:
    from models.load.random_walk import ar1_filter

    with pytest.raises(ValueError, match="decay"):
        ar1_filter(np.zeros(3), 1.0, 0.0)


def test_the_profile_model_needs_the_date() -> None:
    with pytest.raises(ValueError, match="date"):
        load_w("profile", WALL[:10], 1, np.random.default_rng(0))
