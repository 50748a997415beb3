"""The profile load model: the BDEW 2025 standard load profiles with noise [W] (pure, seeded, vectorised).

Returns active power drawn by the building [W], within [0, ``MAX_POWER_W``] and rounded
to 0.1 W.

References
----------
.. [1] BDEW, "Standardlastprofile Strom" (2025 revision: profiles H25, G25, L25, P25,
   S25), Bundesverband der Energie- und Wasserwirtschaft, Berlin, 2025.
.. [2] demandlib (oemof), ``demandlib.bdew.H25`` / ``G25``,
   https://github.com/oemof/demandlib, version 0.2.2.
"""

from __future__ import annotations

import warnings
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd
from dateutil.easter import easter

from models.load.base import LoadModel, LoadParams, finish_w

PROFILES = ("H25", "G25")
"""BDEW 2025 profiles offered: H25 household (dynamised over the year), G25 commercial."""
QUARTER_S = 900
"""Resolution of the BDEW profiles [s]."""


def german_holidays(year: int) -> list[date]:
    """Nationwide German public holidays of ``year`` (the nine that every state keeps).

    Returns
    -------
    list of date
        New Year, Good Friday, Easter Monday, Labour Day, Ascension, Whit Monday, German
        Unity Day, Christmas Day and Boxing Day. Regional holidays are left out.
    """
    sunday = easter(year)
    return [
        date(year, 1, 1),
        sunday - timedelta(days=2),
        sunday + timedelta(days=1),
        date(year, 5, 1),
        sunday + timedelta(days=39),
        sunday + timedelta(days=50),
        date(year, 10, 3),
        date(year, 12, 25),
        date(year, 12, 26),
    ]


@lru_cache(maxsize=8)
def _year_profile_kw_per_kwh(year: int, profile: str) -> npt.NDArray[np.float64]:
    """BDEW profile of a whole year normalised to 1 kWh a year, shape (days, 96) [kW per kWh/a].

    Rows are the local calendar days of ``year``, columns the 96 quarter hours of local
    wall-clock time. Read-only (shared by every caller through the cache).
    """
    import demandlib.bdew as bdew  # heavy (pandas, h5py), and only this model needs it

    index = pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq="15min", inclusive="left")
    with warnings.catch_warnings():
        # demandlib 0.2.2 uses pandas APIs deprecated in pandas 3; the warnings are not ours to fix.
        warnings.simplefilter("ignore")
        values = getattr(bdew, profile)(index, holidays=german_holidays(year)).to_numpy(dtype=np.float64)
    values = values / (values.sum() * QUARTER_S / 3600.0)
    values = values.reshape(-1, 86_400 // QUARTER_S)
    values.setflags(write=False)
    return values


def bdew_profile_w(
    day: date,
    wall_seconds: npt.ArrayLike,
    annual_kwh: float,
    profile: str,
    rng: np.random.Generator,
    noise_fraction: float = 0.1,
) -> npt.NDArray[np.float64]:
    """Building load following a BDEW 2025 standard load profile, with random noise [W].

    Parameters
    ----------
    day : date
        Local calendar date of the readings; it picks the month and the day type
        (workday, Saturday, Sunday or nationwide public holiday) of the profile, and
        for H25 the day of year of its dynamisation.
    wall_seconds : scalar or array
        Local wall-clock time of each reading, seconds since local midnight [s],
        0 to 86,399.
    annual_kwh : float
        Annual consumption the profile is scaled to [kWh/a], > 0.
    profile : str
        ``"H25"`` (household) or ``"G25"`` (commercial), see :data:`PROFILES`.
    rng : numpy.random.Generator
        Random stream of the noise; the result is deterministic for a given state.
    noise_fraction : float, default 0.1
        Standard deviation of the multiplicative noise, as a fraction of the profile
        [unitless]; 0 gives the bare profile.

    Returns
    -------
    ndarray of float64, shape ``(len(wall_seconds),)``
        Power [W]: ``profile * (1 + noise_fraction * N(0, 1))``, independent noise for
        each reading, clipped to [0, 9000] W and rounded to 0.1 W.

    Raises
    ------
    ValueError
        For an unknown ``profile``, a non-positive ``annual_kwh`` or a negative
        ``noise_fraction``.

    Notes
    -----
    The BDEW values are mean powers over each quarter hour, so each is **held**
    (not interpolated) over its 900 s: the energy of every quarter hour stays exactly
    the profile's, as in demandlib's own up-sampling. The profile of a whole year is
    computed once (about 0.1 s) with demandlib [2]_ and cached per (year, profile);
    it is scaled so that the year's energy is exactly ``annual_kwh`` (demandlib's
    dynamised H25 year is close to, not exactly, its nominal 1 GWh). Holidays are the
    nine nationwide German ones (:func:`german_holidays`), treated as Sundays [1]_.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown BDEW profile '{profile}' (choose from {', '.join(PROFILES)})")
    if not annual_kwh > 0:
        raise ValueError(f"annual_kwh must be > 0, got {annual_kwh}")
    if noise_fraction < 0:
        raise ValueError(f"noise_fraction must be >= 0, got {noise_fraction}")
    wall = np.atleast_1d(np.asarray(wall_seconds, dtype=np.int64))
    quarter = np.clip(wall // QUARTER_S, 0, 86_400 // QUARTER_S - 1)
    day_kw = _year_profile_kw_per_kwh(day.year, profile)[day.timetuple().tm_yday - 1]
    mean_w = day_kw[quarter] * (annual_kwh * 1000.0)
    noise = 1.0 + noise_fraction * rng.standard_normal(wall.shape[0])
    return finish_w(mean_w * noise)


def _day_w(wall_seconds: npt.NDArray[np.int64], interval_s: float, rng: np.random.Generator, day: date | None,
           params: LoadParams) -> npt.NDArray[np.float64]:
    if day is None:
        raise ValueError("the profile model needs the local date")
    return bdew_profile_w(day, wall_seconds, params.annual_kwh, params.profile, rng)


MODEL = LoadModel(power_w=_day_w)
"""Registry entry ``profile``."""
