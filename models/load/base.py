"""What every load model shares: its parameters, its random stream, its output range and how it is registered."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from common.schema import MAX_POWER_W


@dataclass(frozen=True)
class LoadParams:
    """Parameters of the ``gaussian`` and ``profile`` load models (the others take none)."""

    mean_w: float = 3000.0
    """Mean of the ``gaussian`` model [W]."""
    std_w: float = 1000.0
    """Standard deviation of the ``gaussian`` model [W]."""
    annual_kwh: float = 4000.0
    """Annual consumption the ``profile`` model is scaled to [kWh/a]."""
    profile: str = "H25"
    """BDEW profile class of the ``profile`` model: ``H25`` household or ``G25`` commercial."""


DEFAULT_PARAMS = LoadParams()
"""The defaults of :class:`LoadParams`."""


DayLoad = Callable[[npt.NDArray[np.int64], float, np.random.Generator, "date | None", LoadParams],
                   npt.NDArray[np.float64]]
"""``(wall_seconds (n,) [s], interval_s [s], rng, local date, params) -> power (n,) [W]``."""
ChunkLoad = Callable[[npt.NDArray[np.int64], float, np.random.Generator, int, "npt.NDArray[np.float64] | None"],
                     Iterator[npt.NDArray[np.float64]]]
"""``(wall_seconds (n,) [s], interval_s [s], rng, chunk, shared) -> power [W] chunk by chunk``."""


@dataclass(frozen=True)
class LoadModel:
    """A load model as the registry holds it (:mod:`models.load.registry`).

    Attributes
    ----------
    power_w : DayLoad
        Power [W] at each local wall-clock second of a day (shape ``(n,)``), drawn from ``rng``.
    power_chunks : ChunkLoad, optional
        The day's values ``chunk`` readings at a time, bit for bit (a meter holds one chunk of every
        meter, not a whole day); ``shared`` is :attr:`day_shared` of the day. None: the model draws
        reading by reading, so :attr:`power_w` of each chunk in turn gives the day's values.
    day_shared : callable, optional
        ``wall_seconds -> array``: what every meter of a day shares (computed once per day).
    """

    power_w: DayLoad
    power_chunks: ChunkLoad | None = None
    day_shared: Callable[[npt.NDArray[np.int64]], npt.NDArray[np.float64]] | None = None


def finish_w(power_w: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Power [W] clipped to [0, ``MAX_POWER_W``] and rounded to 0.1 W (the resolution the CSVs keep)."""
    clipped: npt.NDArray[np.float64] = np.clip(power_w, 0.0, MAX_POWER_W)
    return np.round(clipped, 1)


def meter_rng(seed: int, meter_number: int, ordinal_day: int) -> np.random.Generator:
    """Independent random stream for one meter and one day (NumPy ``SeedSequence``).

    A day's readings depend only on (seed, meter number, date), so any day can be
    regenerated on its own: runs resume, and batch runs match broker runs.
    """
    return np.random.default_rng(np.random.SeedSequence([seed, meter_number, ordinal_day]))
