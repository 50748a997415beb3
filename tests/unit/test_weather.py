"""The weather-driven PV model against pvlib's ModelChain, the sun and its own hourly chain.

Datenbasis: Deutscher Wetterdienst (TRY2010, shipped in demandlib).
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pvlib
import pytest
from pvlib.location import Location
from pvlib.modelchain import ModelChain
from pvlib.pvsystem import PVSystem

from common.clock import LocalDay
from models.pv.site import PvSite
from models.pv.try_data import load_try
from models.pv.weather import HourlyWeather, hourly_ac_kw, hourly_weather, hourly_year_kw, weather_day_kw
from tests.unit.test_try_data import clear_days

POTSDAM_SYSTEM = PvSite(surface_tilt=35.0)  # the anchor: 5 kWp, 35°, south, 14 % losses, in Berlin
BERLIN = ZoneInfo("Europe/Berlin")


def year_days(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


def model_chain_kw(weather: HourlyWeather, site: PvSite) -> np.ndarray:
    """pvlib's ModelChain on the same hourly inputs: Perez, physical IAM, SAPM, PVWatts DC/losses/inverter [kW]."""
    system = PVSystem(
        surface_tilt=site.surface_tilt, surface_azimuth=site.surface_azimuth, albedo=site.albedo,
        module_parameters={"pdc0": site.dc_capacity_kw * 1000.0, "gamma_pdc": site.gamma_pdc},
        temperature_model_parameters={"a": site.sapm_a, "b": site.sapm_b, "deltaT": site.sapm_delta_t},
        inverter_parameters={"pdc0": site.inverter_capacity_kw * 1000.0 / site.eta_inv_nom,
                             "eta_inv_nom": site.eta_inv_nom},
        # PVWatts' losses with every term 0 but one: the flat losses_percent
        losses_parameters={"soiling": site.losses_percent, "shading": 0, "snow": 0, "mismatch": 0, "wiring": 0,
                           "connections": 0, "lid": 0, "nameplate_rating": 0, "age": 0, "availability": 0},
    )
    location = Location(site.latitude, site.longitude, altitude=site.altitude)
    chain = ModelChain(system, location, dc_model="pvwatts", ac_model="pvwatts", aoi_model="physical",
                       spectral_model="no_loss", temperature_model="sapm", losses_model="pvwatts",
                       transposition_model="perez")
    zenith = location.get_solarposition(weather.times_utc)["zenith"].to_numpy()
    dni = np.nan_to_num(np.asarray(pvlib.irradiance.dni(weather.ghi_w_m2, weather.dhi_w_m2, zenith)))
    chain.run_model(pd.DataFrame({"ghi": weather.ghi_w_m2, "dhi": weather.dhi_w_m2, "dni": dni,
                                  "temp_air": weather.temp_air_c, "wind_speed": weather.wind_m_s},
                                 index=weather.times_utc))
    return chain.results.ac.fillna(0.0).clip(lower=0.0).to_numpy() / 1000.0


def test_potsdam_year_lands_in_the_band_and_agrees_with_model_chain() -> None:
    weather = hourly_weather(load_try(4), year_days(2026), POTSDAM_SYSTEM.longitude)
    ours_kw = hourly_ac_kw(weather, POTSDAM_SYSTEM)
    reference_kw = model_chain_kw(weather, POTSDAM_SYSTEM)
    yield_kwh_per_kwp = ours_kw.sum() / POTSDAM_SYSTEM.dc_capacity_kw
    deviation_percent = (ours_kw.sum() / reference_kw.sum() - 1.0) * 100.0
    print(f"Potsdam TRY04: {yield_kwh_per_kwp:.0f} kWh/kWp, ModelChain {deviation_percent:+.3f} %")
    assert 900 <= yield_kwh_per_kwp <= 1020
    assert abs(deviation_percent) < 1.0
    # hour by hour too: within 1 % of each hour's energy or 5 Wh
    np.testing.assert_allclose(ours_kw, reference_kw, rtol=0.01, atol=0.005)


def test_clear_day_pv_centroid_is_at_solar_noon_in_every_region() -> None:
    """PV-weighted centroid of a south-facing array on each region's clear days, per second, vs solar noon."""
    site = POTSDAM_SYSTEM
    seconds = np.arange(86_400)
    for region in range(1, 16):
        year = load_try(region)
        offsets = []
        for day in clear_days(year):
            local = LocalDay(day.replace(year=2026), BERLIN)
            kw = weather_day_kw(year, local, site)
            centroid = pd.Timestamp(local.day) + pd.Timedelta(seconds=float((kw * seconds).sum() / kw.sum()))
            centroid_utc = centroid.tz_localize(BERLIN).tz_convert("UTC")
            eot_min = float(pvlib.solarposition.equation_of_time_spencer71(centroid_utc.day_of_year))
            noon_h = 12.0 - site.longitude / 15.0 - eot_min / 60.0
            offsets.append((centroid_utc.hour + centroid_utc.minute / 60 + centroid_utc.second / 3600 - noon_h) * 60)
        print(f"region {region:2d}: {len(offsets)} clear days, centroid - solar noon "
              f"mean {np.mean(offsets):+.1f} min, median |.| {np.median(np.abs(offsets)):.1f} min")
        assert abs(np.mean(offsets)) < 5.0 and np.median(np.abs(offsets)) < 5.0, (region, offsets)


@pytest.mark.parametrize("day", [date(2026, 6, 10), date(2026, 3, 29), date(2026, 10, 25), date(2026, 1, 15)])
def test_each_hour_of_the_seconds_holds_the_hourly_energy(day: date) -> None:
    """Hours above 50 Wh within 1 %; night stays 0; sunrise and sunset ramp with the sun, not in steps."""
    year, site, local = load_try(4), POTSDAM_SYSTEM, LocalDay(day, BERLIN)
    kw = weather_day_kw(year, local, site)
    assert kw.shape == (86_400,) and (kw >= 0).all() and kw.max() <= site.inverter_capacity_kw
    midpoints_s, hourly_kw = hourly_year_kw(year, day.year, site)
    wall = pd.date_range(pd.Timestamp(day), periods=86_400, freq="s")
    epoch = wall.tz_localize(BERLIN, ambiguous=np.ones(86_400, dtype=bool), nonexistent="shift_forward")
    epoch_s = epoch.tz_convert("UTC").as_unit("s").asi8
    checked = 0
    for middle, power in zip(midpoints_s, hourly_kw, strict=True):
        inside = (epoch_s >= middle - 1800) & (epoch_s < middle + 1800)
        if power * 1000 > 50 and inside.sum() == 3600:
            assert kw[inside].sum() / 3600 == pytest.approx(power, rel=0.01)
            checked += 1
    assert checked >= 6
    light = np.flatnonzero(kw > 0)
    sunrise, sunset = light[0], light[-1]
    # the first and last minutes of light are tiny (the clear-sky ramp), not a jump to the hour's mean
    assert kw[sunrise:sunrise + 60].max() < 0.02 and kw[sunset - 59:sunset + 1].max() < 0.02
    # within an hour the power is smooth; a step is allowed only where one hour meets the next
    step = np.abs(np.diff(kw))
    at_edge = np.diff(np.searchsorted(midpoints_s + 1800, epoch_s)) != 0
    assert step[~at_edge].max() < 0.01


def test_29_february_has_28_februarys_weather_and_its_own_sun() -> None:
    year, site = load_try(4), POTSDAM_SYSTEM
    leap = weather_day_kw(year, LocalDay(date(2028, 2, 29), BERLIN), site)
    before = weather_day_kw(year, LocalDay(date(2028, 2, 28), BERLIN), site)
    assert leap.sum() / 3600 == pytest.approx(before.sum() / 3600, rel=0.05)
    assert np.flatnonzero(leap > 0)[0] < np.flatnonzero(before > 0)[0]  # a day later, the sun rises earlier


def test_the_registry_builds_the_weather_model_for_the_sites_region() -> None:
    from models.pv.registry import build_pv_profile

    profile = build_pv_profile("weather", POTSDAM_SYSTEM, peak_kw=None, weather_region=None)
    assert profile.region == 4  # Berlin lies in Potsdam's region
    day = LocalDay(date(2026, 6, 10), BERLIN)
    values = profile(day)
    assert len(values) == 86_400 and all(isinstance(v, int) for v in values[:10])
    assert sum(values) / 10_000 / 3600 == pytest.approx(weather_day_kw(load_try(4), day, POTSDAM_SYSTEM).sum() / 3600)
    assert build_pv_profile("weather", POTSDAM_SYSTEM, weather_region=12).region == 12
    with pytest.raises(ValueError, match=r"1\.\.15"):
        build_pv_profile("weather", POTSDAM_SYSTEM, weather_region=16)
