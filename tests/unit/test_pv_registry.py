"""PV models by name or callable (models/pv/registry.py), and the site's pvlib constants."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from zoneinfo import ZoneInfo

import pvlib
import pytest

from common.clock import LocalDay
from models.pv import registry
from models.pv.clearsky import ClearSkyPv, clearsky_day_kw
from models.pv.profile import day_dw
from models.pv.reference import ReferencePv, reference_day_dw
from models.pv.registry import build_pv_profile, pv_model_names
from models.pv.site import SAPM_OPEN_RACK_GLASS_POLYMER, PvSite
from pv_simulator.settings import PvSimulatorSettings

JUNE = LocalDay(date(2026, 6, 21), ZoneInfo("Europe/Berlin"))


def test_the_builtin_models_are_found_by_name() -> None:
    assert pv_model_names()[:2] == ("reference", "clearsky")
    assert build_pv_profile("reference", PvSite(), peak_kw=2.0) == ReferencePv(2.0)
    site = PvSite(dc_capacity_kw=8.0)
    model = build_pv_profile("clearsky", site, peak_kw=2.0)  # an option another model takes is ignored
    assert model == ClearSkyPv(site)
    assert model(JUNE) == day_dw(clearsky_day_kw(JUNE, site))


def test_an_unknown_name_is_a_value_error_naming_the_choices() -> None:
    with pytest.raises(ValueError, match=r"unknown PV model 'sunny' \(choose from reference, clearsky"):
        build_pv_profile("sunny", PvSite())


def test_a_callable_is_used_as_the_factory() -> None:
    flat = (1234,) * 86_400
    assert build_pv_profile(lambda site, **_: (lambda day: flat), PvSite())(JUNE) is flat


def test_one_registry_entry_makes_a_model_selectable_in_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    def half_reference(site: PvSite, peak_kw: float | None = None, **_options: object) -> ReferencePv:
        return ReferencePv(1.62)

    monkeypatch.setitem(registry.PV_MODELS, "half", half_reference)
    assert PvSimulatorSettings(pv_model="half").pv_profile()(JUNE) == reference_day_dw(1.62)
    with pytest.raises(ValueError, match="unknown PV model 'quarter'"):
        PvSimulatorSettings(pv_model="quarter")


def test_the_reference_model_is_built_without_importing_pvlib() -> None:
    # The site, the registry and the reference curve are light: only the clear-sky model needs pvlib.
    code = ("import sys; from models.pv.registry import build_pv_profile; from models.pv.site import PvSite; "
            "build_pv_profile('reference', PvSite()); print('pvlib' in sys.modules)")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "False"


def test_the_site_defaults_are_pvlibs_open_rack_glass_polymer_sapm_parameters() -> None:
    pvlib_values = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"]
    assert pvlib_values == SAPM_OPEN_RACK_GLASS_POLYMER
