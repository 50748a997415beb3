"""Unit tests of the battery's energy balance (models/battery_summary.py)."""

from __future__ import annotations

import numpy as np
import pytest

from models.battery import BatterySpec, dispatch
from models.battery_summary import battery_balance


def test_a_worked_hour_by_hand():
    # 1 h surplus of 2 kW into a 10 kWh / 5 kW battery at 90 %, then 1 h deficit of 1 kW.
    meter, pv = np.array([1.0, 1.0]), np.array([3.0, 0.0])
    spec = BatterySpec(10.0, 5.0, 0.9)
    result = dispatch(meter, pv, 3600.0, spec)
    balance = battery_balance(meter, pv, 3600.0, result, 10.0)
    assert balance.charged_kwh == pytest.approx(2.0)
    assert balance.discharged_kwh == pytest.approx(1.0)
    assert balance.soc_change_kwh == pytest.approx(1.8 - 1 / 0.9)
    assert balance.losses_kwh == pytest.approx(0.2 + (1 / 0.9 - 1))
    assert balance.imported_kwh == pytest.approx(0.0) and balance.exported_kwh == pytest.approx(0.0)
    assert balance.self_sufficiency_percent == pytest.approx(100.0)
    assert balance.pv_only_self_sufficiency_percent == pytest.approx(50.0)
    assert balance.pv_only_self_consumption_percent == pytest.approx(100 / 3)
    assert balance.equivalent_full_cycles == pytest.approx(0.1)


@pytest.mark.parametrize("strategy", ["self-consumption", "grid-friendly"])
def test_the_balance_closes_and_the_battery_only_helps(strategy):
    rng = np.random.default_rng(11)
    n = 20_000
    hour = (np.arange(n) * 60 / 3600) % 24
    meter = rng.uniform(0.1, 2.5, n)
    pv = np.clip(6 * np.sin(np.pi * (hour - 6) / 12), 0, None) * rng.uniform(0.3, 1, n)
    spec = BatterySpec(6.0, 3.0, 0.95, strategy, pv_kwp=6.0, feed_in_limit_share=0.5)
    result = dispatch(meter, pv, 60.0, spec, 1.0, hour)
    b = battery_balance(meter, pv, 60.0, result, 6.0, 1.0)
    assert b.consumed_kwh + b.charged_kwh + b.exported_kwh + b.curtailed_kwh == pytest.approx(
        b.imported_kwh + b.pv_kwh + b.discharged_kwh, rel=1e-12)
    assert b.soc_change_kwh == pytest.approx(0.95 * b.charged_kwh - b.discharged_kwh / 0.95, abs=1e-9)
    assert b.losses_kwh == pytest.approx(0.05 * b.charged_kwh + (1 / 0.95 - 1) * b.discharged_kwh, abs=1e-9)
    assert b.self_sufficiency_percent > b.pv_only_self_sufficiency_percent + 5
    assert b.imported_kwh < b.pv_only_imported_kwh
    assert b.equivalent_full_cycles == pytest.approx(b.discharged_kwh / 6.0)
    assert (b.curtailed_kwh > 0) == (strategy == "grid-friendly")
