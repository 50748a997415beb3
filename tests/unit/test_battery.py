"""Unit tests of the battery dispatch (models/battery.py), against a plain-python re-computation."""

from __future__ import annotations

import numpy as np
import pytest

from models.battery import STRATEGIES, BatterySpec, dispatch

SECONDS = 86_400


def reference_self_consumption(meter_kw, pv_kw, interval_s, capacity_kwh, power_kw, efficiency, soc_kwh):
    """The issue's rule, written out reading by reading in plain python (no numpy, no numba)."""
    powers, socs = [], []
    for meter, pv, seconds in zip(meter_kw, pv_kw, interval_s, strict=True):
        dt_h = seconds / 3600
        surplus = pv - meter
        if surplus > 0:
            power = min(surplus, power_kw, (capacity_kwh - soc_kwh) / (efficiency * dt_h))
            soc_kwh += efficiency * power * dt_h
        elif surplus < 0:
            power = -min(-surplus, power_kw, efficiency * soc_kwh / dt_h)
            soc_kwh += power * dt_h / efficiency
        else:
            power = 0.0
        powers.append(power)
        socs.append(soc_kwh)
    return powers, socs


def random_readings(seed: int, n: int = 5_000):
    """Meter and PV [kW] and intervals [s] that swing between surplus and deficit, some exactly balanced."""
    rng = np.random.default_rng(seed)
    meter = rng.uniform(0, 4, n)
    pv = rng.uniform(0, 6, n) * (rng.random(n) < 0.7)
    pv[::97] = meter[::97]
    interval = rng.choice([1.0, 60.0, 900.0], n)
    return meter, pv, interval


def sunny_day(pv_kwp: float = 5.0, meter_kw: float = 0.4):
    """A clear day at 1 s: a half-sine of PV between 06:00 and 18:00 local and a flat load."""
    hour = np.arange(SECONDS) / 3600
    pv = np.clip(pv_kwp * np.sin(np.pi * (hour - 6) / 12), 0, None)
    return np.full(SECONDS, meter_kw), pv, hour


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("soc0", [0.0, 3.0, 10.0])
def test_self_consumption_matches_a_plain_python_loop(seed, soc0):
    meter, pv, interval = random_readings(seed)
    spec = BatterySpec(10.0, 3.0, 0.9)
    result = dispatch(meter, pv, interval, spec, soc0)
    powers, socs = reference_self_consumption(meter.tolist(), pv.tolist(), interval.tolist(), 10.0, 3.0, 0.9, soc0)
    np.testing.assert_allclose(result.battery_power_kw, powers, rtol=0, atol=1e-9)
    np.testing.assert_allclose(result.battery_soc_kwh, socs, rtol=0, atol=1e-9)
    assert result.soc_kwh == result.battery_soc_kwh[-1]
    assert not result.curtailed_kw.any()


@pytest.mark.parametrize("strategy", list(STRATEGIES))
@pytest.mark.parametrize("seed", [3, 4])
def test_the_change_of_charge_is_efficiency_times_charged_minus_discharged_over_efficiency(strategy, seed):
    meter, pv, interval = random_readings(seed)
    hour = (np.cumsum(interval) / 3600) % 24
    spec = BatterySpec(8.0, 2.5, 0.93, strategy, pv_kwp=6.0)
    result = dispatch(meter, pv, interval, spec, 2.0, hour)
    energy_kwh = result.battery_power_kw * interval / 3600
    charged, discharged = energy_kwh[energy_kwh > 0].sum(), -energy_kwh[energy_kwh < 0].sum()
    assert charged > 1 and discharged > 1
    assert result.soc_kwh - 2.0 == pytest.approx(0.93 * charged - discharged / 0.93, abs=1e-9)
    steps = np.diff(np.concatenate([[2.0], result.battery_soc_kwh]))
    expected = np.where(energy_kwh > 0, 0.93 * energy_kwh, energy_kwh / 0.93)
    np.testing.assert_allclose(steps, expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_limits_hold_and_the_battery_never_trades_with_the_grid(strategy):
    meter, pv, interval = random_readings(5)
    hour = (np.cumsum(interval) / 3600) % 24
    spec = BatterySpec(6.0, 2.0, 0.95, strategy, pv_kwp=6.0)
    result = dispatch(meter, pv, interval, spec, 0.0, hour)
    power, surplus = result.battery_power_kw, pv - meter
    assert np.all(np.abs(power) <= 2.0)
    assert np.all((result.battery_soc_kwh >= 0) & (result.battery_soc_kwh <= 6.0))
    assert np.all(power <= np.maximum(surplus, 0))  # charges from PV surplus only
    assert np.all(-power <= np.maximum(-surplus, 0))  # discharges into the building's deficit only
    assert result.battery_soc_kwh.min() == 0.0  # the limits were reached, not just respected
    assert result.battery_soc_kwh.max() > (5.999 if strategy == "self-consumption" else 4.0)


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_two_halves_carrying_the_state_give_the_whole(strategy):
    meter, pv, interval = random_readings(6)
    hour = (np.cumsum(interval) / 3600) % 24
    spec = BatterySpec(7.0, None, 0.95, strategy, pv_kwp=5.0)
    whole = dispatch(meter, pv, interval, spec, 1.5, hour)
    first = dispatch(meter[:2_345], pv[:2_345], interval[:2_345], spec, 1.5, hour[:2_345])
    second = dispatch(meter[2_345:], pv[2_345:], interval[2_345:], spec, first.soc_kwh, hour[2_345:])
    for name in ("battery_power_kw", "battery_soc_kwh", "curtailed_kw"):
        joined = np.concatenate([getattr(first, name), getattr(second, name)])
        assert np.array_equal(joined, getattr(whole, name)), name
    assert second.soc_kwh == whole.soc_kwh


def test_grid_friendly_caps_the_export_and_counts_what_it_curtails():
    meter, pv, hour = sunny_day()
    spec = BatterySpec(5.0, 2.5, 0.95, "grid-friendly", pv_kwp=5.0, feed_in_limit_share=0.6)
    result = dispatch(meter, pv, 1.0, spec, 0.0, hour)
    export = np.maximum(pv - result.curtailed_kw - meter - result.battery_power_kw, 0)
    assert export.max() <= 3.0 + 1e-9
    assert np.all(result.curtailed_kw <= pv)
    without_battery = np.maximum(pv - meter - 3.0, 0).sum() / 3600
    curtailed_kwh = result.curtailed_kw.sum() / 3600
    assert 0 <= curtailed_kwh < 0.5 * without_battery


def test_grid_friendly_saves_room_for_the_midday_peak():
    meter, pv, hour = sunny_day()
    greedy = dispatch(meter, pv, 1.0, BatterySpec(5.0, 2.5, 0.95, pv_kwp=5.0), 0.0, hour)
    friendly = dispatch(meter, pv, 1.0, BatterySpec(5.0, 2.5, 0.95, "grid-friendly", pv_kwp=5.0), 0.0, hour)
    at_eleven = 11 * 3600
    assert greedy.battery_soc_kwh[at_eleven] == pytest.approx(5.0)  # the greedy one is full before noon
    assert friendly.battery_soc_kwh[at_eleven] < 0.7 * 5.0
    peak = slice(11 * 3600, 13 * 3600)
    assert friendly.battery_power_kw[peak].mean() > 4 * greedy.battery_power_kw[peak].mean()
    assert friendly.battery_soc_kwh[17 * 3600] == pytest.approx(5.0)  # and still full for the evening


def test_default_power_is_half_the_capacity():
    assert BatterySpec(10.0).limit_kw == 5.0
    assert BatterySpec(10.0, 3.0).limit_kw == 3.0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"capacity_kwh": 0.0}, "capacity"),
    ({"capacity_kwh": 5.0, "power_kw": -1.0}, "power"),
    ({"capacity_kwh": 5.0, "efficiency": 1.2}, "efficiency"),
    ({"capacity_kwh": 5.0, "strategy": "arbitrage"}, "unknown battery strategy 'arbitrage'"),
    ({"capacity_kwh": 5.0, "strategy": "grid-friendly"}, "pv_kwp"),
])
def test_bad_specs_say_what_is_wrong(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BatterySpec(**kwargs)


def test_bad_inputs_say_what_is_wrong():
    spec = BatterySpec(5.0)
    with pytest.raises(ValueError, match="one shape"):
        dispatch(np.zeros(3), np.zeros(4), 1.0, spec)
    with pytest.raises(ValueError, match="> 0 s"):
        dispatch(np.zeros(3), np.zeros(3), [1.0, 0.0, 1.0], spec)
    with pytest.raises(ValueError, match="outside"):
        dispatch(np.zeros(3), np.zeros(3), 1.0, spec, 6.0)
    with pytest.raises(ValueError, match="local hour"):
        dispatch(np.zeros(3), np.zeros(3), 1.0, BatterySpec(5.0, strategy="grid-friendly", pv_kwp=4.0))
