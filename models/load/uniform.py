"""The uniform load model: independent draws on [0, 9000] W, the challenge brief's plain meter."""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt

from common.schema import MAX_POWER_W
from models.load.base import LoadModel, LoadParams, finish_w


def uniform_w(n: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """Independent uniform draws on [0, 9000] W, the challenge brief's plain meter. Shape ``(n,)``."""
    return finish_w(rng.uniform(0.0, MAX_POWER_W, n))


def _day_w(wall_seconds: npt.NDArray[np.int64], interval_s: float, rng: np.random.Generator, day: date | None,
           params: LoadParams) -> npt.NDArray[np.float64]:
    return uniform_w(wall_seconds.shape[0], rng)


MODEL = LoadModel(power_w=_day_w)
"""Registry entry ``uniform``."""
