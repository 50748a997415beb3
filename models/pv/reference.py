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


def _pchip_edge(h0: float, h1: float, m0: float, m1: float) -> float:
    """One-sided three-point derivative at an end point, shape-preserving (Moler, *Numerical Computing
    with MATLAB*, 3.6, ``pchiptx.m``; as SciPy's ``PchipInterpolator``)."""
    d = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)
    if np.sign(d) != np.sign(m0):
        return 0.0
    if np.sign(m0) != np.sign(m1) and abs(d) > 3.0 * abs(m0):
        return 3.0 * m0
    return float(d)


@lru_cache(maxsize=1)
def _pchip_coefficients() -> npt.NDArray[np.float64]:
    """Cubic coefficients (4, n - 1) per segment of the digitized points, highest power first.

    Monotone piecewise-cubic Hermite interpolation (PCHIP, Fritsch and Carlson 1980): the derivative at
    an inner point is the weighted harmonic mean of the slopes beside it, or 0 where they differ in sign
    or one is 0. Written out in NumPy with SciPy's ``PchipInterpolator`` arithmetic, step for step (the
    same floats: a test compares them), because importing ``scipy.interpolate`` took the PV simulator's
    start about 0.6 s (over 1 s on a busy machine).
    """
    x, y = _curve_points()
    hk = np.diff(x)
    mk = np.diff(y) / hk
    smk = np.sign(mk)
    flat = (smk[1:] != smk[:-1]) | (mk[1:] == 0) | (mk[:-1] == 0)
    w1 = 2 * hk[1:] + hk[:-1]
    w2 = hk[1:] + 2 * hk[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        whmean = (w1 / mk[:-1] + w2 / mk[1:]) / (w1 + w2)
    dk = np.zeros_like(y)
    dk[1:-1][~flat] = 1.0 / whmean[~flat]
    dk[0] = _pchip_edge(hk[0], hk[1], mk[0], mk[1])
    dk[-1] = _pchip_edge(hk[-1], hk[-2], mk[-1], mk[-2])
    slope = np.diff(y) / hk
    t = (dk[:-1] + dk[1:] - 2 * slope) / hk
    return np.stack([t / hk, (slope - dk[:-1]) / hk - t, dk[:-1], y[:-1]])


def _pchip(seconds: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The PCHIP of the digitized points at ``seconds`` [s]; NaN outside their range (no extrapolation)."""
    x = _curve_points()[0]
    c = _pchip_coefficients()
    segment = np.clip(np.searchsorted(x, seconds, side="right") - 1, 0, len(x) - 2)
    s = seconds - x[segment]
    s2 = s * s
    # summed in SciPy's order (PPoly: c3 + c2 s + c1 s^2 + c0 s^3), so the floats are the same
    power = ((c[3, segment] + c[2, segment] * s) + c[1, segment] * s2) + c[0, segment] * (s2 * s)
    return np.where((seconds >= x[0]) & (seconds <= x[-1]), power, np.nan)


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
    power = np.nan_to_num(_pchip(seconds), nan=0.0)
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
