"""The interface every PV model offers the day files: a day's PV power per local wall-clock second."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from common.clock import LocalDay

SECONDS_PER_DAY = 86_400


class PvProfile(Protocol):
    """A PV model as the day files use it (picklable, so batch workers receive it).

    Called with a local day, it returns the PV AC power at each local wall-clock second
    0..86,399 of that day in integer units of 0.1 W (the resolution the CSVs keep), as a
    tuple of 86,400 ints. A model may cache days; the tuple must not change.
    """

    def __call__(self, day: LocalDay) -> tuple[int, ...]:
        """PV power for each wall-clock second 0..86,399 of ``day`` [0.1 W]."""
        ...


def day_dw(power_kw: npt.ArrayLike) -> tuple[int, ...]:
    """PV power [kW] (86,400,) -> the :class:`PvProfile` form: integers of 0.1 W, rounded half to even."""
    return tuple(np.rint(np.asarray(power_kw, dtype=np.float64) * 10_000).astype(np.int64).tolist())
