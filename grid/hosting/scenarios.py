"""Random PV deployments on a feeder and the worst-case operating point (pure, vectorised).

A scenario is a random order of the feeder's B buildings (its loads) and a PV size per
building. PV is added building by building in that order: step k (1..B) has PV on the
first k buildings of the order. The scenario's hosting capacity is the PV installed
before the first step that violates a limit (0 if step 1 does; all B buildings if none
does).

Sources
-------
- PV size per building: log-normal, median 6.9 kWp, σ 0.40 (of ln kWp), clipped to
  1–30 kWp. Fitted to two German rooftop statistics: a mean new residential system of
  about 7.5 kWp (EUPD Research, EndCustomer Monitor 10.0: 7.35 kWp in 2019, 7.48 kWp in
  H1 2020) and 82 % of new systems ≤ 10 kWp since 2014 (Fraunhofer ISE, "Photovoltaikzubau
  in Deutschland in Zahlen", 2021, from the Marktstammdatenregister and EEG master data).
  30 kWp is the upper end of the EEG's small-rooftop class connected to the LV grid.
- Operating point: SimBench's study case "lPV" (low load, high PV; Meinecke et al.,
  Energies 13(12) 3290, 2020, Table 6): every load at 10 % of its rated power, PV at 95 %
  of its installed power.
- Limits: bus voltage ≤ 1.10 pu (EN 50160, 10-min values in LV networks); optionally a
  voltage rise ≤ 3 % against the same feeder without PV (VDE-AR-N 4105:2018, 5.3.2); line
  and transformer loading ≤ 100 %.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

PV_MEDIAN_KWP = 6.9
"""Median rooftop PV size [kWp] (see the module's sources)."""
PV_SIGMA = 0.40
"""Spread of ln(size) of the log-normal PV size [-]."""
PV_MIN_KWP = 1.0
"""Smallest PV size drawn [kWp]."""
PV_MAX_KWP = 30.0
"""Largest PV size drawn [kWp] (EEG small rooftop class)."""
PV_SHARE = 0.95
"""PV AC output at the operating point as a share of installed kWp (SimBench study case lPV)."""
LOAD_SHARE = 0.10
"""Load of each building at the operating point as a share of its rated power (SimBench study case lPV)."""
VM_MAX_PU = 1.10
"""Upper bus voltage limit [pu] (EN 50160)."""
VOLTAGE_RISE_PERCENT = 3.0
"""Voltage rise limit of VDE-AR-N 4105 against the feeder without PV [%] (used when enabled)."""
LOADING_MAX_PERCENT = 100.0
"""Line and transformer loading limit [%]."""

KINDS = ("voltage", "voltage_rise", "line", "trafo")
"""Constraint kinds, in the order that names the binding one when several fail at the same step."""
NONE = "none"
"""Binding kind of a scenario in which every building got PV without a violation."""

IntArray = npt.NDArray[np.int64]
Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class PvSizes:
    """Log-normal PV size per building: ``median_kwp`` [kWp], ``sigma`` of ln(size) [-], clipped to
    [``min_kwp``, ``max_kwp``] [kWp]. Defaults: German rooftop statistics (module sources)."""

    median_kwp: float = PV_MEDIAN_KWP
    sigma: float = PV_SIGMA
    min_kwp: float = PV_MIN_KWP
    max_kwp: float = PV_MAX_KWP

    def draw(self, rng: np.random.Generator, shape: tuple[int, ...]) -> Array:
        """Sizes of ``shape`` [kWp]."""
        sizes = rng.lognormal(math.log(self.median_kwp), self.sigma, shape)
        return np.clip(sizes, self.min_kwp, self.max_kwp)


@dataclass(frozen=True)
class Scenarios:
    """S deployments of PV on B buildings.

    ``order`` (S, B): building index (column of the feeder's load table) added at each step;
    ``size_kwp`` (S, B): PV size of each building [kWp], indexed by building, not by step.
    """

    order: IntArray
    size_kwp: Array

    @property
    def count(self) -> int:
        """Number of scenarios S."""
        return int(self.order.shape[0])

    @property
    def buildings(self) -> int:
        """Number of buildings B."""
        return int(self.order.shape[1])

    def rank(self) -> IntArray:
        """(S, B): the step (1..B) at which each building gets its PV."""
        rank = np.empty_like(self.order)
        np.put_along_axis(rank, self.order, np.arange(1, self.buildings + 1)[None, :], axis=1)
        return rank

    def size_in_order_kwp(self) -> Array:
        """(S, B): PV size added at each step [kWp]."""
        return np.take_along_axis(self.size_kwp, self.order, axis=1)

    def pv_kwp(self, scenarios: IntArray, steps: IntArray) -> Array:
        """(len(scenarios), len(steps), B): PV installed on each building after each step [kWp]."""
        installed = self.rank()[scenarios][:, None, :] <= steps[None, :, None]
        return installed * self.size_kwp[scenarios][:, None, :]


def draw_scenarios(count: int, buildings: int, seed: int, sizes: PvSizes | None = None) -> Scenarios:
    """``count`` random deployments on ``buildings`` buildings, reproducible from ``seed``.

    Raises
    ------
    ValueError
        If ``count`` < 1 or ``buildings`` < 1.
    """
    if count < 1 or buildings < 1:
        raise ValueError(f"need at least one scenario and one building, got {count} and {buildings}")
    rng = np.random.default_rng(seed)
    order = rng.permuted(np.broadcast_to(np.arange(buildings), (count, buildings)), axis=1).astype(np.int64)
    return Scenarios(order=order, size_kwp=(sizes or PvSizes()).draw(rng, (count, buildings)))


def capacity_kwp(scenarios: Scenarios, first_violation: IntArray) -> Array:
    """(S,): PV installed before the first violating step [kWp] (``first_violation`` 0 = none: all of it).

    ``first_violation`` (S,): the first step (1..B) that violates a limit, 0 if none does.
    """
    cumulative = np.concatenate([np.zeros((scenarios.count, 1)), np.cumsum(scenarios.size_in_order_kwp(), axis=1)],
                                axis=1)
    before = np.where(first_violation > 0, first_violation - 1, scenarios.buildings)
    return cumulative[np.arange(scenarios.count), before]
