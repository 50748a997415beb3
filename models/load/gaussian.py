"""The gaussian load model: independent normal draws of building load [W] (pure, seeded, vectorised)."""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt

from models.load.base import LoadModel, LoadParams, finish_w


def gaussian_w(n: int, mean_w: float, std_w: float, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """Independent normal draws of building load [W].

    Parameters
    ----------
    n : int
        Number of readings.
    mean_w : float
        Mean of the normal distribution [W].
    std_w : float
        Standard deviation [W], >= 0.
    rng : numpy.random.Generator
        Random stream; the result is deterministic for a given state.

    Returns
    -------
    ndarray of float64, shape (n,)
        Power [W], clipped to [0, 9000] W (so the mean shifts when the distribution
        reaches past either bound) and rounded to 0.1 W.
    """
    if std_w < 0:
        raise ValueError(f"std_w must be >= 0, got {std_w}")
    return finish_w(rng.normal(mean_w, std_w, n))


def _day_w(wall_seconds: npt.NDArray[np.int64], interval_s: float, rng: np.random.Generator, day: date | None,
           params: LoadParams) -> npt.NDArray[np.float64]:
    return gaussian_w(wall_seconds.shape[0], params.mean_w, params.std_w, rng)


MODEL = LoadModel(power_w=_day_w)
"""Registry entry ``gaussian``."""
