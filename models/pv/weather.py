"""Weather-driven PV model: AC power of a rooftop system under the DWD test reference year [kW] (pure, vectorised).

Datenbasis: Deutscher Wetterdienst. The weather is a German test reference year TRY2010
(:mod:`models.pv.try_data` loads it; nothing here reads files): hourly direct and diffuse
horizontal irradiance, air temperature and wind of a typical year of one of 15 climate
regions. A date takes the TRY's records of its month and day (29 February: 28 February's).

Two layers:

1. :func:`hourly_ac_kw`, the hourly chain on the TRY's hours, each at the middle of its
   interval (see :func:`models.pv.try_data.midpoints_utc` for the time reference): solar
   position [2]_; DNI = B / cos(zenith), 0 with the sun within 2° of the horizon (pvlib's
   ``irradiance.dni``); **Perez** transposition to the plane of array [3]_, not Hay-Davies
   as in the clear-sky model, because the TRY's diffuse irradiance is measured (or computed)
   under real skies, where Perez' circumsolar and horizon-brightening terms matter, and
   because NREL's PVWatts, whose chain this is, uses Perez with weather files [5]_; the
   Fresnel incidence-angle modifier on the beam; SAPM cell temperature [4]_ from the
   plane-of-array irradiance, the TRY's air temperature (2 m) and wind (10 m, the SAPM's
   reference height); PVWatts DC power, a flat loss factor and the PVWatts inverter [5]_.
   The parameters are the clear-sky model's (:class:`models.pv.site.PvSite`).
2. :func:`weather_day_kw`, one value per second of a local day: the clear-sky index of
   the AC power (hourly weather power / clear-sky power over the same interval) is
   interpolated linearly between the intervals' midpoints and multiplied by the clear-sky
   AC power of every second, then adjusted (three fixed-point passes on every 60th
   second, then one exact scaling per hour) so that each interval's energy equals the
   hourly chain's. Sunrise and sunset therefore follow the
   clear-sky sun, not hourly steps. Sub-hourly cloud variability is NOT modelled: a
   broken-cloud hour becomes a smooth hour of the same energy.

References
----------
.. [1] Deutscher Wetterdienst / BBR, "Aktualisierte und erweiterte Testreferenzjahre (TRY)
   von Deutschland für mittlere und extreme Witterungsverhältnisse", Offenbach, 2011.
.. [2] I. Reda and A. Andreas, "Solar position algorithm for solar radiation
   applications", Solar Energy 76(5), 577-589, 2004.
.. [3] R. Perez, P. Ineichen, R. Seals, J. Michalsky and R. Stewart, "Modeling daylight
   availability and irradiance components from direct and global irradiance", Solar
   Energy 44(5), 271-289, 1990.
.. [4] D. L. King, W. E. Boyson and J. A. Kratochvil, "Photovoltaic Array Performance
   Model", SAND2004-3535, Sandia National Laboratories, 2004.
.. [5] A. P. Dobos, "PVWatts Version 5 Manual", NREL/TP-6A20-62641, 2014.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd
import pvlib

from common.clock import LocalDay
from models.pv.clearsky import DAY_STEP_S, clearsky_day_kw
from models.pv.profile import day_dw
from models.pv.site import PvSite
from models.pv.try_data import TryYear, load_try, midpoints_utc, region_at

SECONDS_PER_DAY = 86_400
MAX_CLEARSKY_INDEX = 3.0
"""Cap of the per-second clear-sky index [unitless]: bounds spikes where the clear-sky power is tiny (sunrise)."""
_PASSES = 3


@dataclass(frozen=True, eq=False)
class HourlyWeather:
    """The TRY's hourly records of some dates, each at the middle of its interval.

    Attributes
    ----------
    times_utc : pandas.DatetimeIndex, shape (n,), tz UTC
        Middle of each record's interval (1 h long).
    ghi_w_m2, dhi_w_m2 : ndarray of float64, shape (n,)
        Global (B + D) and diffuse horizontal irradiance, hourly means [W/m²].
    temp_air_c : ndarray of float64, shape (n,)
        Air temperature [°C].
    wind_m_s : ndarray of float64, shape (n,)
        Wind speed at 10 m [m/s].
    """

    times_utc: pd.DatetimeIndex
    ghi_w_m2: npt.NDArray[np.float64]
    dhi_w_m2: npt.NDArray[np.float64]
    temp_air_c: npt.NDArray[np.float64]
    wind_m_s: npt.NDArray[np.float64]


def hourly_weather(year: TryYear, days: Sequence[date], longitude: float) -> HourlyWeather:
    """The records of ``days`` (24 each, in order) on the UTC clock of a site at ``longitude`` [deg].

    29 February takes 28 February's records with its own sun.
    """
    rows = np.concatenate([year.rows_of(day.month, day.day) for day in days])
    times = pd.DatetimeIndex(np.concatenate([midpoints_utc(year, day, longitude).to_numpy() for day in days]))
    beam, diffuse = year.beam_horizontal_w_m2[rows], year.diffuse_horizontal_w_m2[rows]
    return HourlyWeather(times_utc=times.tz_localize("UTC") if times.tz is None else times,
                         ghi_w_m2=beam + diffuse, dhi_w_m2=diffuse,
                         temp_air_c=year.temp_air_c[rows], wind_m_s=year.wind_m_s[rows])


def hourly_ac_kw(weather: HourlyWeather, site: PvSite) -> npt.NDArray[np.float64]:
    """AC power of ``site`` under the hourly ``weather`` [kW], the chain of the module docstring.

    Parameters
    ----------
    weather : HourlyWeather
        Records of n hours.
    site : PvSite
        The system (the same parameters as the clear-sky model; its constant temperature
        and wind are not used: the TRY's are).

    Returns
    -------
    ndarray of float64, shape (n,)
        Mean AC power over each record's hour [kW], 0 with the sun down, never above
        ``site.inverter_capacity_kw``.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _hourly_ac_kw(weather, site)


def _hourly_ac_kw(weather: HourlyWeather, site: PvSite) -> npt.NDArray[np.float64]:
    times = weather.times_utc
    solpos = pvlib.solarposition.get_solarposition(times, site.latitude, site.longitude, altitude=site.altitude)
    # B / cos(true zenith) is DNI; the sun's direction on the array is the refracted (apparent)
    # one, as in pvlib's ModelChain (Perez' sky-clearness bins are sensitive to it at low sun).
    dni = pvlib.irradiance.dni(weather.ghi_w_m2, weather.dhi_w_m2, solpos["zenith"].to_numpy())
    dni = np.nan_to_num(np.asarray(dni, dtype=np.float64), nan=0.0)
    zenith = solpos["apparent_zenith"].to_numpy()
    azimuth = solpos["azimuth"].to_numpy()
    dni_extra = pvlib.irradiance.get_extra_radiation(times.day_of_year.to_numpy())
    airmass_relative = pvlib.atmosphere.get_relative_airmass(zenith)
    poa = pvlib.irradiance.get_total_irradiance(
        site.surface_tilt, site.surface_azimuth, zenith, azimuth, dni, weather.ghi_w_m2, weather.dhi_w_m2,
        dni_extra=dni_extra, airmass=airmass_relative, albedo=site.albedo, model="perez",
    )
    poa_global = np.nan_to_num(np.asarray(poa["poa_global"], dtype=np.float64), nan=0.0)
    aoi = pvlib.irradiance.aoi(site.surface_tilt, site.surface_azimuth, zenith, azimuth)
    effective = np.asarray(poa["poa_direct"] * pvlib.iam.physical(aoi) + poa["poa_diffuse"], dtype=np.float64)
    effective = np.nan_to_num(effective, nan=0.0)
    temp_cell = pvlib.temperature.sapm_cell(
        poa_global, weather.temp_air_c, weather.wind_m_s, site.sapm_a, site.sapm_b, site.sapm_delta_t
    )
    dc_w = pvlib.pvsystem.pvwatts_dc(effective, temp_cell, site.dc_capacity_kw * 1000.0, site.gamma_pdc)
    dc_w = np.asarray(dc_w, dtype=np.float64) * (1.0 - site.losses_percent / 100.0)
    inverter_pdc0_w = site.inverter_capacity_kw * 1000.0 / site.eta_inv_nom
    ac_w = np.nan_to_num(np.asarray(pvlib.inverter.pvwatts(dc_w, inverter_pdc0_w, site.eta_inv_nom)), nan=0.0)
    return np.clip(ac_w / 1000.0, 0.0, site.inverter_capacity_kw)


def _wall_seconds_utc(day: LocalDay) -> npt.NDArray[np.float64]:
    """UTC epoch [s] of each local wall-clock second 0..86,399 of ``day``, as ``clearsky_day_kw`` maps them.

    Clocks change on the hour, so each hour's first and last second is converted and the
    seconds in between interpolated. ``fold=0`` gives the repeated hour its summer-time
    instants, as ``clearsky_day_kw``'s ``tz_localize`` does (which costs about 10 ms even for
    a few values); the skipped hour, which no reading has and which is night, differs.
    """
    wall_s = np.sort(np.concatenate([np.arange(0, SECONDS_PER_DAY, 3600), np.arange(3599, SECONDS_PER_DAY, 3600)]))
    midnight = datetime.combine(day.day, time())
    epoch = [(midnight + timedelta(seconds=int(s))).replace(tzinfo=day.tz).timestamp() for s in wall_s]
    return np.interp(np.arange(SECONDS_PER_DAY, dtype=np.float64), wall_s.astype(np.float64), np.asarray(epoch))


@lru_cache(maxsize=8)
def hourly_year_kw(
    year: TryYear, calendar_year: int, site: PvSite
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """:func:`hourly_ac_kw` for every record of a calendar year and the days on either side of it.

    Computed once per TRY, year and site (one vectorised chain, about 0.4 s) and shared by
    all the year's days: a day then costs little more than its clear-sky power.

    Returns
    -------
    (ndarray, ndarray), each of shape (24 x (days in the year + 2),)
        The records' midpoints [s, UTC epoch] and mean AC power [kW].
    """
    first = date(calendar_year, 1, 1) - timedelta(days=1)
    count = (date(calendar_year + 1, 1, 1) - first).days + 1
    weather = hourly_weather(year, [first + timedelta(days=n) for n in range(count)], site.longitude)
    return weather.times_utc.as_unit("s").asi8.astype(np.float64), hourly_ac_kw(weather, site)


def weather_day_kw(year: TryYear, day: LocalDay, site: PvSite) -> npt.NDArray[np.float64]:
    """AC power of ``site`` under the TRY's weather at each local wall-clock second of a day [kW].

    Parameters
    ----------
    year : TryYear
        The region's test reference year.
    day : LocalDay
        The local calendar day; its ``tz`` sets the wall clock (the site's ``timezone``).
    site : PvSite
        The system.

    Returns
    -------
    ndarray of float64, shape (86400,)
        AC power [kW] by local wall-clock second, like :func:`models.pv.clearsky.clearsky_day_kw`:
        the clear-sky power times the interpolated clear-sky index (module docstring, layer 2),
        never above the inverter limit. Each TRY hour's energy equals :func:`hourly_ac_kw`'s
        (to well under 1 % where the hour holds more than a few Wh).
    """
    midpoints_s, hourly_kw = hourly_year_kw(year, day.day.year, site)
    seconds_s = _wall_seconds_utc(day)
    near = slice(*np.searchsorted(midpoints_s, [seconds_s[0] - 7200.0, seconds_s[-1] + 7200.0]))
    return spread_hours_kw(midpoints_s[near], hourly_kw[near], seconds_s, clearsky_day_kw(day, site),
                           site.inverter_capacity_kw)


def spread_hours_kw(
    midpoints_s: npt.NDArray[np.float64], hourly_kw: npt.NDArray[np.float64],
    seconds_s: npt.NDArray[np.float64], clearsky_kw: npt.NDArray[np.float64], limit_kw: float,
) -> npt.NDArray[np.float64]:
    """Per-second power whose energy in each hour is that hour's mean power times its length [kW].

    Parameters
    ----------
    midpoints_s : ndarray, shape (n,)
        Middle of each hour, increasing [s, UTC epoch].
    hourly_kw : ndarray, shape (n,)
        Mean power of each hour [kW].
    seconds_s : ndarray, shape (m,)
        The instants wanted, sorted, 1 s apart in wall-clock time [s, UTC epoch].
    clearsky_kw : ndarray, shape (m,)
        Clear-sky power at ``seconds_s`` [kW]: the shape within each hour.
    limit_kw : float
        Power never exceeds this [kW] (the inverter limit).

    Returns
    -------
    ndarray of float64, shape (m,)
        Clear-sky power times a clear-sky index interpolated linearly between the hours'
        midpoints (capped at :data:`MAX_CLEARSKY_INDEX`), the hours' indices corrected in
        three passes (on every ``DAY_STEP_S``-th second) so that each hour's energy within
        ``seconds_s`` matches, then each hour
        scaled to its energy exactly (this last step is a visible step only at an hour much
        darker than both its neighbours). Hours whose clear-sky power is zero get none.
    """
    edges = (midpoints_s[1:] + midpoints_s[:-1]) / 2.0
    n = len(midpoints_s)
    # seconds_s is sorted: find where each hour starts in it (n searches, not m)
    starts = np.concatenate([[0], np.searchsorted(seconds_s, edges, side="right"), [len(seconds_s)]])
    hour_of = np.repeat(np.arange(n), np.diff(starts))
    target = hourly_kw * np.minimum(np.diff(starts), 3600)  # energy of the hours inside ``seconds_s`` [kW s]
    # the passes run on every DAY_STEP_S-th second (the clear-sky model's own step), the last step on all
    coarse = slice(None, None, DAY_STEP_S)
    coarse_hour, coarse_clear = hour_of[coarse], clearsky_kw[coarse]
    coarse_target = np.bincount(coarse_hour, weights=hourly_kw[coarse_hour], minlength=n)
    clear = np.bincount(coarse_hour, weights=coarse_clear, minlength=n)
    index = np.divide(coarse_target, clear, out=np.zeros_like(target), where=clear > 0)
    for _ in range(_PASSES):
        got = np.bincount(coarse_hour, minlength=n,
                          weights=_scaled(index, midpoints_s, seconds_s[coarse], coarse_clear, limit_kw))
        index = index * np.divide(coarse_target, got, out=np.ones_like(target), where=got > 0)
    power = _scaled(index, midpoints_s, seconds_s, clearsky_kw, limit_kw)
    # A dark hour between bright ones cannot be met by a non-negative linear index: the
    # last step scales each hour to its energy (a small step at its edges, 1 elsewhere).
    got = np.bincount(hour_of, weights=power, minlength=n)
    factor = np.divide(target, got, out=np.zeros_like(target), where=got > 0)
    return np.minimum(power * factor[hour_of], limit_kw)


def _scaled(index: npt.NDArray[np.float64], midpoints_s: npt.NDArray[np.float64], seconds_s: npt.NDArray[np.float64],
            clearsky_kw: npt.NDArray[np.float64], limit_kw: float) -> npt.NDArray[np.float64]:
    """Clear-sky power times the capped index interpolated to ``seconds_s``, within the limit [kW]."""
    index = np.minimum(index, MAX_CLEARSKY_INDEX)
    return np.minimum(np.interp(seconds_s, midpoints_s, index) * clearsky_kw, limit_kw)


@lru_cache(maxsize=32)
def _weather_day_dw(site: PvSite, region: int, day: date) -> tuple[int, ...]:
    return day_dw(weather_day_kw(load_try(region), LocalDay(day, ZoneInfo(site.timezone)), site))


@dataclass(frozen=True)
class WeatherPv:
    """The weather model of ``site`` in TRY ``region`` as a PV profile: power per local wall-clock second [0.1 W].

    Computed once per date and shared by every meter of that date.
    """

    site: PvSite
    region: int

    def __call__(self, day: LocalDay) -> tuple[int, ...]:
        """PV power for each wall-clock second 0..86,399 of ``day`` [0.1 W]."""
        return _weather_day_dw(self.site, self.region, day.day)


def weather_model(site: PvSite, weather_region: int | None = None, **_options: object) -> WeatherPv:
    """Registry factory: the weather model of ``site`` in ``weather_region`` (default: the region containing it).

    Raises
    ------
    ValueError
        If the region is not 1..15, or none is given and the site lies outside Germany's TRY regions.
    """
    region = region_at(site.latitude, site.longitude) if weather_region is None else weather_region
    load_try(region)  # checks the region, and reads it once before the workers need it
    return WeatherPv(site, region)
