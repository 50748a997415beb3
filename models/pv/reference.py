"""The challenge's reference PV curve: AC power [kW] against local clock time (pure, no I/O after load).

Source: the PV Simulator Challenge brief's chart "The Coach House Solar PV –
2012-05-25", digitized to a 10-minute grid (``data/reference_pv_curve.csv`` beside this
module): 0 before 05:00 and after 21:00 local time, peak about 3.24 kW near 14:10,
about 26.7 kWh a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import numpy.typing as npt
from scipy.interpolate import PchipInterpolator

from common.clock import LocalDay
from models.pv.profile import SECONDS_PER_DAY, day_dw
from models.pv.site import PvSite


@lru_cache(maxsize=1)
def _curve_points() -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(local clock time [s since midnight], AC power [kW]) of the shipped digitized curve."""
    text = resources.files("models.pv").joinpath("data/reference_pv_curve.csv").read_text()
    rows = [line.split(",") for line in text.splitlines()[1:] if line.strip()]
    seconds = np.array([int(t[:2]) * 3600 + int(t[3:5]) * 60 for t, _ in rows], dtype=np.float64)
    power = np.array([float(p) for _, p in rows], dtype=np.float64)
    return seconds, power


@lru_cache(maxsize=1)
def _interpolator() -> PchipInterpolator:
    seconds, power = _curve_points()
    return PchipInterpolator(seconds, power, extrapolate=False)


def reference_pv_kw(wall_seconds: npt.ArrayLike, peak_kw: float | None = None) -> npt.NDArray[np.float64]:
    """PV AC power of the reference curve at local clock times [kW].

    Parameters
    ----------
    wall_seconds : scalar or array
        Local wall-clock time, seconds since local midnight [s], 0 to 86,400.
    peak_kw : float, optional
        Scale the curve so that its peak is this value [kW]; default: as digitized
        (about 3.24 kW).

    Returns
    -------
    ndarray
        Same shape as ``wall_seconds``: monotone-cubic (PCHIP) interpolation of the
        digitized points, which never overshoots them; 0 outside 05:00-21:00 and
        never negative.
    """
    seconds = np.asarray(wall_seconds, dtype=np.float64)
    power = np.nan_to_num(_interpolator()(seconds), nan=0.0)
    power = np.clip(power, 0.0, None)
    if peak_kw is not None:
        power = power * (peak_kw / float(_curve_points()[1].max()))
    return power


@lru_cache(maxsize=4)
def reference_day_dw(peak_kw: float | None = None) -> tuple[int, ...]:
    """The reference curve for every second of a local day, in units of 0.1 W (integers).

    Index: local wall-clock second 0..86,399. Computed once (vectorised) and shared by
    every day and meter: the reference curve does not depend on the date.
    """
    return day_dw(reference_pv_kw(np.arange(SECONDS_PER_DAY), peak_kw))


@dataclass(frozen=True)
class ReferencePv:
    """The reference curve as a :class:`~models.pv.profile.PvProfile`: a day's power per local wall-clock
    second [0.1 W].

    ``peak_kw`` scales the curve to a system whose peak is that value [kW] (None: as digitized).
    The same for every date.
    """

    peak_kw: float | None = None

    def __call__(self, day: LocalDay) -> tuple[int, ...]:
        """PV power for each wall-clock second 0..86,399 of ``day`` [0.1 W]."""
        return reference_day_dw(self.peak_kw)


def reference_model(site: PvSite, peak_kw: float | None = None, **_options: object) -> ReferencePv:
    """Registry entry ``reference``: the curve scaled to ``peak_kw`` [kW]; the site plays no part."""
    return ReferencePv(peak_kw)
