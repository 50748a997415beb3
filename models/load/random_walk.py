"""The random-walk load model: a mean-reverting random walk around a diurnal mean [W] (pure, seeded, vectorised).

A building-like load: a base load plus morning, midday and evening peaks, with an
Ornstein-Uhlenbeck deviation sampled exactly at each reading. Returns active power drawn
by the building [W] within [0, ``MAX_POWER_W``], rounded to 0.1 W.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import numpy as np
import numpy.typing as npt

from models.load.base import LoadModel, LoadParams, finish_w

# Diurnal mean of the random-walk model: a base load plus morning, midday and evening
# peaks, a shape typical of a small mixed-use building (illustrative values, not fitted).
BASE_LOAD_W = 1200.0
PEAKS = (  # (hour of peak [h], width [h], height [W])
    (7.5, 1.2, 2200.0),
    (13.0, 2.5, 1500.0),
    (19.5, 1.8, 3300.0),
)
WALK_SIGMA_W = 700.0
"""Stationary standard deviation of the random walk around the diurnal mean [W]."""
WALK_TIME_CONSTANT_S = 600.0
"""Mean-reversion time constant of the random walk [s]: deviations fade over ~10 minutes."""


def diurnal_mean_w(wall_seconds: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Mean load of the random-walk model at local clock times [W].

    ``wall_seconds``: seconds since local midnight [s], scalar or array.
    """
    hours = np.asarray(wall_seconds, dtype=np.float64) / 3600.0
    mean = np.full_like(hours, BASE_LOAD_W)
    for hour, width, height in PEAKS:
        mean += height * np.exp(-0.5 * ((hours - hour) / width) ** 2)
    return mean


def random_walk_w(
    wall_seconds: npt.ArrayLike, interval_s: float, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """A building-like load: a mean-reverting random walk around a diurnal mean [W].

    The deviation from :func:`diurnal_mean_w` is an Ornstein-Uhlenbeck process
    (time constant ``WALK_TIME_CONSTANT_S``, stationary std ``WALK_SIGMA_W``), sampled
    exactly every ``interval_s`` [s] and started from its stationary distribution, so
    every day is statistically alike. Clipped to [0, 9000] W.

    Shape: as ``wall_seconds``. Deterministic for a given ``rng`` state.
    """
    wall = np.atleast_1d(np.asarray(wall_seconds, dtype=np.float64))
    decay = np.exp(-interval_s / WALK_TIME_CONSTANT_S)
    shocks = rng.standard_normal(wall.shape[0]) * WALK_SIGMA_W * np.sqrt(1.0 - decay**2)
    start = rng.standard_normal() * WALK_SIGMA_W
    deviation = ar1_filter(shocks, decay, start)
    return finish_w(diurnal_mean_w(wall) + deviation)


def ar1_filter(shocks: npt.NDArray[np.float64], decay: float, start: float) -> npt.NDArray[np.float64]:
    """The AR(1) recursion ``x[k] = decay * x[k-1] + shocks[k]`` with ``x[-1] = start``, vectorised.

    Same result as ``scipy.signal.lfilter([1], [1, -decay], shocks, zi=[decay * start])``
    (to rounding), without importing ``scipy.signal``, which costs the meter process
    about 0.6 s and 68 MB at start (measured). Works block by block with the closed form
    ``x[k] = decay**(k+1) * (start + cumsum(shocks[j] / decay**(j+1)))``, blocks short
    enough that ``decay**-k`` stays far from overflow.
    """
    if not 0.0 < decay < 1.0:
        raise ValueError(f"decay must be in (0, 1), got {decay}")
    block = max(1, int(50.0 / -np.log(decay)))  # decay**-block <= e**50
    out = np.empty_like(shocks)
    state = start
    for begin in range(0, shocks.shape[0], block):
        chunk = shocks[begin : begin + block]
        powers = decay ** np.arange(1, chunk.shape[0] + 1, dtype=np.float64)
        out[begin : begin + chunk.shape[0]] = powers * (state + np.cumsum(chunk / powers))
        state = float(out[begin + chunk.shape[0] - 1])
    return out


class Ar1Stream:
    """:func:`ar1_filter` fed piece by piece: the same values, bit for bit, for any split of the shocks.

    Keeps :func:`ar1_filter`'s block boundaries and the running sum inside the current
    block, so a meter can generate a day in small chunks (memory flat in meters)
    and still publish exactly the values batch mode computes for the whole day.
    """

    def __init__(self, decay: float, start: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.block = max(1, int(50.0 / -np.log(decay)))  # as in ar1_filter
        self._state = start  # x at the start of the current block
        self._position = 0  # index within the current block
        self._partial = 0.0  # cumsum of shocks / powers within the current block so far

    def step(self, shocks: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The next ``len(shocks)`` values of the recursion."""
        out = np.empty_like(shocks)
        done = 0
        while done < shocks.shape[0]:
            take = min(shocks.shape[0] - done, self.block - self._position)
            powers = self.decay ** np.arange(self._position + 1, self._position + take + 1, dtype=np.float64)
            scaled = shocks[done : done + take] / powers
            if self._position == 0:
                running = np.cumsum(scaled)
            else:  # continue the block's cumulative sum with the same additions, in the same order
                running = np.cumsum(np.concatenate(([self._partial], scaled)))[1:]
            out[done : done + take] = powers * (self._state + running)
            self._partial = float(running[-1])
            self._position += take
            done += take
            if self._position == self.block:
                self._state, self._position, self._partial = float(out[done - 1]), 0, 0.0
        return out


def random_walk_chunks(
    wall_seconds: npt.NDArray[np.int64], interval_s: float, rng: np.random.Generator, chunk: int,
    mean_w: npt.NDArray[np.float64] | None = None,
) -> Iterator[npt.NDArray[np.float64]]:
    """:func:`random_walk_w` over a day, ``chunk`` readings at a time: the same values, bit for bit.

    ``mean_w``: :func:`diurnal_mean_w` of ``wall_seconds`` if already computed (it is
    the same for every meter of a day). The walk's start is drawn after the day's
    shocks, so the shocks are drawn twice: once (in chunks, discarded) to reach the
    start, then again from the saved state.
    """
    if mean_w is None:
        mean_w = diurnal_mean_w(wall_seconds)
    n = wall_seconds.shape[0]
    decay = np.exp(-interval_s / WALK_TIME_CONSTANT_S)
    saved = rng.bit_generator.state
    for begin in range(0, n, 65_536):
        rng.standard_normal(min(65_536, n - begin))
    start = rng.standard_normal() * WALK_SIGMA_W
    after = rng.bit_generator.state
    rng.bit_generator.state = saved
    walk = Ar1Stream(decay, start)
    for begin in range(0, n, chunk):
        mean = mean_w[begin : begin + chunk]
        shocks = rng.standard_normal(mean.shape[0]) * WALK_SIGMA_W * np.sqrt(1.0 - decay**2)
        yield finish_w(mean + walk.step(shocks))
    rng.bit_generator.state = after


def _day_w(wall_seconds: npt.NDArray[np.int64], interval_s: float, rng: np.random.Generator, day: date | None,
           params: LoadParams) -> npt.NDArray[np.float64]:
    return random_walk_w(wall_seconds, interval_s, rng)


MODEL = LoadModel(power_w=_day_w, power_chunks=random_walk_chunks, day_shared=diurnal_mean_w)
"""Registry entry ``random-walk``."""
