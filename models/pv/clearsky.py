"""Clear-sky PV model: AC power of a rooftop system under a cloudless sky [kW] (pure, vectorised).

A pvlib chain in the spirit of NREL's PVWatts: solar position, Ineichen-Perez clear-sky
irradiance, Hay-Davies transposition to the plane of array, SAPM cell temperature,
PVWatts DC power, a flat system loss factor and the PVWatts inverter. It gives the
power a well-kept system would deliver on a perfectly clear day, a smooth upper bound
of real days (no clouds, no snow, no horizon shading).

Apart from the Linke turbidity climatology shipped inside pvlib, nothing is read or
looked up: the site's altitude is given, so no elevation or weather data are needed.

References
----------
.. [1] W. F. Holmgren, C. W. Hansen and M. A. Mikofski, "pvlib python: a python package
   for modeling solar energy systems", Journal of Open Source Software 3(29), 884, 2018.
.. [2] I. Reda and A. Andreas, "Solar position algorithm for solar radiation
   applications", Solar Energy 76(5), 577-589, 2004.
.. [3] P. Ineichen and R. Perez, "A new airmass independent formulation for the Linke
   turbidity coefficient", Solar Energy 73(3), 151-157, 2002.
.. [4] J. E. Hay and J. A. Davies, "Calculations of the solar radiation incident on an
   inclined surface", Proc. First Canadian Solar Radiation Data Workshop, 59-72, 1980.
.. [5] D. L. King, W. E. Boyson and J. A. Kratochvil, "Photovoltaic Array Performance
   Model", SAND2004-3535, Sandia National Laboratories, 2004.
.. [6] A. P. Dobos, "PVWatts Version 5 Manual", NREL/TP-6A20-62641, 2014.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd
import pvlib

from common.clock import LocalDay
from models.pv.profile import day_dw
from models.pv.site import DEFAULT_SITE, PvSite

DAY_STEP_S = 60
"""Step of the model in :func:`clearsky_day_kw` [s]; seconds in between are interpolated linearly."""


def clearsky_pv_kw(epoch_s: npt.ArrayLike, site: PvSite = DEFAULT_SITE) -> npt.NDArray[np.float64]:
    """AC power of ``site`` under a clear sky at given instants [kW].

    Parameters
    ----------
    epoch_s : int or array of int
        Instants as UTC epoch seconds [s].
    site : PvSite
        The system; default :class:`PvSite` (5 kWp in Berlin).

    Returns
    -------
    ndarray of float64
        AC power [kW], same shape as ``epoch_s`` (0-d for a scalar): 0 while the sun
        is below the horizon, never negative and never above
        ``site.inverter_capacity_kw``.

    Notes
    -----
    The chain, each step from pvlib [1]_: NREL SPA solar position [2]_; Ineichen-Perez
    clear-sky GHI/DNI/DHI [3]_ with pvlib's monthly Linke turbidity climatology
    (interpolated by day of year) and the pressure of the site's altitude; Hay-Davies
    transposition to the plane of array [4]_; the Fresnel incidence-angle modifier
    (``pvlib.iam.physical``) on the beam component only; SAPM cell temperature [5]_
    from the plane-of-array irradiance at constant ``temp_air_c`` and
    ``wind_speed_m_s``; PVWatts DC power and inverter [6]_, with a flat
    ``losses_percent`` loss factor between them.
    """
    epoch = np.asarray(epoch_s, dtype=np.int64)
    times = pd.DatetimeIndex(pd.to_datetime(epoch.ravel(), unit="s", utc=True))
    return _ac_kw(times, site).reshape(epoch.shape)


def _ac_kw(times: pd.DatetimeIndex, site: PvSite) -> npt.NDArray[np.float64]:
    """The pvlib chain of :func:`clearsky_pv_kw` on a UTC index; AC power [kW], shape ``(len(times),)``."""
    # At night the airmass is NaN or infinite and Ineichen divides by it: those NaNs
    # become 0 W below, so the floating-point warnings they raise are noise.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _ac_kw_unchecked(times, site)


def _ac_kw_unchecked(times: pd.DatetimeIndex, site: PvSite) -> npt.NDArray[np.float64]:
    solpos = pvlib.solarposition.get_solarposition(times, site.latitude, site.longitude, altitude=site.altitude)
    apparent_zenith = solpos["apparent_zenith"].to_numpy()
    zenith = solpos["zenith"].to_numpy()
    azimuth = solpos["azimuth"].to_numpy()

    airmass_relative = pvlib.atmosphere.get_relative_airmass(apparent_zenith)
    pressure = pvlib.atmosphere.alt2pres(site.altitude)
    airmass = pvlib.atmosphere.get_absolute_airmass(airmass_relative, pressure)
    day_of_year = times.day_of_year.to_numpy()
    linke = _linke_turbidity(day_of_year, times.is_leap_year, site.latitude, site.longitude)
    dni_extra = pvlib.irradiance.get_extra_radiation(day_of_year)
    sky = pvlib.clearsky.ineichen(apparent_zenith, airmass, linke, site.altitude, dni_extra)

    poa = pvlib.irradiance.get_total_irradiance(
        site.surface_tilt, site.surface_azimuth, zenith, azimuth,
        sky["dni"], sky["ghi"], sky["dhi"],
        dni_extra=dni_extra, airmass=airmass_relative, albedo=site.albedo, model="haydavies",
    )
    aoi = pvlib.irradiance.aoi(site.surface_tilt, site.surface_azimuth, zenith, azimuth)
    effective = poa["poa_direct"] * pvlib.iam.physical(aoi) + poa["poa_diffuse"]
    effective = np.nan_to_num(np.asarray(effective, dtype=np.float64), nan=0.0)

    temp_cell = pvlib.temperature.sapm_cell(
        effective, site.temp_air_c, site.wind_speed_m_s, site.sapm_a, site.sapm_b, site.sapm_delta_t
    )
    dc_w = pvlib.pvsystem.pvwatts_dc(effective, temp_cell, site.dc_capacity_kw * 1000.0, site.gamma_pdc)
    dc_w = np.asarray(dc_w, dtype=np.float64) * (1.0 - site.losses_percent / 100.0)
    # pvlib's inverter pdc0 is the DC input at the AC limit: pac0 = eta_inv_nom * pdc0.
    inverter_pdc0_w = site.inverter_capacity_kw * 1000.0 / site.eta_inv_nom
    ac_w = pvlib.inverter.pvwatts(dc_w, inverter_pdc0_w, eta_inv_nom=site.eta_inv_nom)
    ac_w = np.nan_to_num(np.asarray(ac_w, dtype=np.float64), nan=0.0)
    return np.clip(ac_w / 1000.0, 0.0, site.inverter_capacity_kw)


@lru_cache(maxsize=16)
def _monthly_linke(latitude: float, longitude: float) -> tuple[float, ...]:
    """pvlib's monthly Linke turbidity at a place, January to December [unitless] (one file read per place)."""
    months = pd.DatetimeIndex([f"2001-{month:02d}-15" for month in range(1, 13)], tz="UTC")
    values = pvlib.clearsky.lookup_linke_turbidity(months, latitude, longitude, interp_turbidity=False)
    return tuple(float(v) for v in values)


def _linke_turbidity(
    day_of_year: npt.NDArray[np.int64], leap: npt.NDArray[np.bool_], latitude: float, longitude: float
) -> npt.NDArray[np.float64]:
    """Linke turbidity [unitless] on each UTC day of year: pvlib's monthly values, taken at
    mid-month and interpolated linearly in between, as ``lookup_linke_turbidity`` does (its own
    interpolation uses an accessor deprecated in pandas 3, and it rereads the file on each call).
    """
    monthly = _monthly_linke(latitude, longitude)
    values = np.array([monthly[-1], *monthly, monthly[0]])
    result = np.empty(day_of_year.shape, dtype=np.float64)
    for is_leap, year in ((False, 2001), (True, 2004)):
        lengths = np.array([calendar.monthrange(year, month)[1] for month in range(1, 13)], dtype=np.float64)
        middles = np.concatenate([[-15.5], np.cumsum(lengths) - lengths / 2.0, [lengths.sum() + 15.5]])
        chosen = leap == is_leap
        result[chosen] = np.interp(day_of_year[chosen], middles, values)
    return result


def clearsky_day_kw(day: LocalDay, site: PvSite = DEFAULT_SITE) -> npt.NDArray[np.float64]:
    """Clear-sky AC power of ``site`` at each local wall-clock second of a day [kW].

    Parameters
    ----------
    day : LocalDay
        The local calendar day; its ``tz`` sets the wall clock (it should be the
        site's ``timezone``).
    site : PvSite
        The system; default :class:`PvSite` (5 kWp in Berlin).

    Returns
    -------
    ndarray of float64, shape (86400,)
        AC power [kW] indexed by local wall-clock second 0..86,399 of ``day.day``,
        like :func:`models.pv.reference.reference_day_dw` (but in kW, not 0.1 W).

    Notes
    -----
    The model runs once per ``DAY_STEP_S`` (60 s) of wall-clock time, 00:00 to 24:00
    (1,441 points), and the seconds in between are interpolated linearly: clear-sky
    power changes by well under 1 % of its peak in a minute, so the error is
    negligible and the day costs about 1/60 of a per-second model. Wall-clock times
    are converted to UTC with the day's time zone: on the day clocks go back, the
    repeated hour takes its summer-time instants; on the day they go forward, the
    skipped hour (which no reading can have) takes the values just after it.
    """
    grid_s = np.arange(0, 86_400 + DAY_STEP_S, DAY_STEP_S)
    midnight = pd.Timestamp(day.day)
    wall = pd.DatetimeIndex(midnight + pd.to_timedelta(grid_s, unit="s"))
    local = wall.tz_localize(day.tz, ambiguous=np.ones(len(wall), dtype=bool), nonexistent="shift_forward")
    grid_kw = _ac_kw(local.tz_convert("UTC"), site)
    return np.interp(np.arange(86_400, dtype=np.float64), grid_s.astype(np.float64), grid_kw)


@lru_cache(maxsize=16)
def _clearsky_day_dw(site: PvSite, day: date) -> tuple[int, ...]:
    return day_dw(clearsky_day_kw(LocalDay(day, ZoneInfo(site.timezone)), site))


@dataclass(frozen=True)
class ClearSkyPv:
    """The clear-sky model of ``site`` as a :class:`~models.pv.profile.PvProfile`: power per local wall-clock
    second [0.1 W].

    Computed once per day (vectorised) and shared by every meter of that day.
    """

    site: PvSite

    def __call__(self, day: LocalDay) -> tuple[int, ...]:
        """PV power for each wall-clock second 0..86,399 of ``day`` [0.1 W]."""
        return _clearsky_day_dw(self.site, day.day)


def clearsky_model(site: PvSite, **_options: object) -> ClearSkyPv:
    """Registry entry ``clearsky``: :class:`ClearSkyPv` of ``site``."""
    return ClearSkyPv(site)
