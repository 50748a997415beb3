"""Model choices in the settings reach the models: PV model factory and load model parameters."""

from __future__ import annotations

import pickle
from datetime import date
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from common.clock import LocalDay
from meter.settings import MeterSettings
from models.pv.clearsky import ClearSkyPv
from models.pv.reference import ReferencePv, reference_day_dw
from pv_simulator.settings import PvSimulatorSettings

JUNE = LocalDay(date(2026, 6, 21), ZoneInfo("Europe/Berlin"))


def test_reference_pv_is_the_default_and_scales_to_a_peak() -> None:
    assert PvSimulatorSettings().pv_profile()(JUNE) == reference_day_dw()
    scaled = PvSimulatorSettings(pv_peak_kw=6.48).pv_profile()
    assert isinstance(scaled, ReferencePv)
    assert max(scaled(JUNE)) == pytest.approx(64_800, abs=2)


def test_clearsky_pv_uses_the_site_and_is_computed_once_per_day() -> None:
    model = PvSimulatorSettings(pv_model="clearsky", dc_capacity_kw=10, inverter_capacity_kw=9).pv_profile()
    assert isinstance(model, ClearSkyPv)
    day_dw = model(JUNE)
    assert len(day_dw) == 86_400 and min(day_dw) == 0
    assert 70_000 < max(day_dw) <= 90_000  # a 10 kWp system peaks near 7.5-8 kW AC, below its 9 kW inverter
    assert model(LocalDay(date(2026, 6, 21), ZoneInfo("Europe/Berlin"))) is day_dw  # cached per date
    assert pickle.loads(pickle.dumps(model)) == model  # batch workers receive it


def test_clearsky_settings_reject_an_impossible_site() -> None:
    with pytest.raises(ValueError, match="latitude"):
        PvSimulatorSettings(pv_model="clearsky", latitude_deg=95)


@pytest.mark.parametrize(("model", "extra", "mean_w"), [
    ("gaussian", {"gaussian_mean_w": 1500.0, "gaussian_std_w": 200.0}, 1500.0),
    ("profile", {"annual_kwh": 8760.0, "profile": "H25"}, 1000.0),
])
def test_load_model_parameters_reach_the_plan(model: str, extra: dict, mean_w: float) -> None:
    settings = MeterSettings(date=date(2026, 3, 10), model=model, **extra)
    power = settings.plan().day(0).power_w[0]
    assert power.shape == (86_400,)
    assert np.mean(power) == pytest.approx(mean_w, rel=0.5)
