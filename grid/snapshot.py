"""One instant of a feeder solved with ``pandapower.runpp`` (Newton-Raphson, the reference solver).

:func:`run_load_snapshot` is the assignment's power-flow service: the ``seed`` network
with its load set to (P, Q). :func:`run_buildings_snapshot` puts pvsim buildings (meter
and PV power) on any feeder for one instant. Both reuse a network built once per process
(guarded by a lock, so threads may call them), and take 5–100 ms per call.
"""

from __future__ import annotations

import copy
import functools
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandapower as pp

from common.order import natural_order
from grid.buildings import PlacedFeeder, place_buildings, reactive_power
from grid.feeders import SEED, cached_feeder
from grid.result import BuildingResult, FeederSnapshot

LV_MAX_KV = 1.0  # buses at or below this nominal voltage [kV] form the low-voltage feeder


class PowerFlowDiverged(ValueError):
    """The power flow did not converge (or was given non-finite powers); the message says which.

    ``interval``: index of the first interval that failed, when a day was solved (else None).
    """

    def __init__(self, message: str, interval: int | None = None) -> None:
        super().__init__(message)
        self.interval = interval


@dataclass(frozen=True)
class SnapshotResult:
    """The solved ``seed`` network.

    ``active_power_mw`` / ``reactive_power_mvar``: what the load draws [MW] / [Mvar];
    ``grid_p_mw`` / ``grid_q_mvar``: what flows in through the external grid (positive =
    import) [MW] / [Mvar]; ``bus_vm_pu``: bus name -> voltage magnitude [pu];
    ``line_loading_percent`` / ``trafo_loading_percent``: element name -> loading [%];
    ``losses_mw``: line and transformer losses [MW].
    """

    active_power_mw: float
    reactive_power_mvar: float
    grid_p_mw: float
    grid_q_mvar: float
    bus_vm_pu: dict[str, float]
    line_loading_percent: dict[str, float]
    trafo_loading_percent: dict[str, float]
    losses_mw: float


def solve(net: pp.pandapowerNet) -> None:
    """``pp.runpp(net)``; raises :class:`PowerFlowDiverged` naming the network if it does not converge."""
    try:
        pp.runpp(net, numba=False)
    except pp.LoadflowNotConverged:
        raise PowerFlowDiverged(f"power flow of '{net.name}' did not converge") from None


def _check_finite(**values: float) -> None:
    for name, value in values.items():
        if not math.isfinite(value):
            raise PowerFlowDiverged(f"{name} must be a finite number, got {value}")


_seed_lock = threading.Lock()


@functools.cache
def _seed() -> pp.pandapowerNet:
    return copy.deepcopy(cached_feeder(SEED))


def run_load_snapshot(p_mw: float = 0.1, q_mvar: float = 0.05) -> SnapshotResult:
    """Solve the ``seed`` network with its load at ``p_mw`` [MW] and ``q_mvar`` [Mvar] (negative = generation).

    The defaults are the assignment's load; the result then has bus voltages
    1.02 / 1.0088 / 0.9644 pu and a line loading of 117.8 %.

    Raises
    ------
    PowerFlowDiverged
        If a power is not finite or the power flow does not converge (e.g. 10 MW on this cable).
    """
    _check_finite(p_mw=p_mw, q_mvar=q_mvar)
    with _seed_lock:
        net = _seed()
        net.load.loc[:, "p_mw"] = p_mw
        net.load.loc[:, "q_mvar"] = q_mvar
        solve(net)
        bus = net.res_bus.vm_pu
        return SnapshotResult(
            active_power_mw=float(net.res_load.p_mw.sum()),
            reactive_power_mvar=float(net.res_load.q_mvar.sum()),
            grid_p_mw=float(net.res_ext_grid.p_mw.sum()),
            grid_q_mvar=float(net.res_ext_grid.q_mvar.sum()),
            bus_vm_pu={str(net.bus.at[i, "name"]): float(bus.at[i]) for i in net.bus.index},
            line_loading_percent={str(net.line.at[i, "name"]): float(v)
                                  for i, v in net.res_line.loading_percent.items()},
            trafo_loading_percent={str(net.trafo.at[i, "name"]): float(v)
                                   for i, v in net.res_trafo.loading_percent.items()},
            losses_mw=float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()),
        )


_placed_lock = threading.Lock()
_placed: dict[tuple[str, tuple[str, ...]], tuple[PlacedFeeder, threading.Lock]] = {}
_PLACED_MAX = 32


def placed_feeder(feeder: str, meter_ids: tuple[str, ...]) -> tuple[PlacedFeeder, threading.Lock]:
    """A cached placement of ``meter_ids`` on ``feeder`` and the lock to hold while using it.

    Raises :class:`~grid.feeders.UnknownFeederError` or :class:`~grid.buildings.TooManyMetersError`.
    """
    key = (feeder, meter_ids)
    with _placed_lock:
        if key not in _placed:
            if len(_placed) >= _PLACED_MAX:
                _placed.pop(next(iter(_placed)))
            placed = place_buildings(copy.deepcopy(cached_feeder(feeder)), meter_ids, feeder)
            _placed[key] = (placed, threading.Lock())
        return _placed[key]


def run_buildings_snapshot(
    feeder: str, buildings: Mapping[str, tuple[float, float]], power_factor: float = 0.95
) -> FeederSnapshot:
    """Solve ``feeder`` with ``buildings`` = {meter_id: (meter_power_kw, pv_power_kw)} at one instant.

    Meters in natural order of their ids take the feeder's loads in table order
    (:mod:`grid.buildings`); loads without a meter carry nothing. Loads draw Q at
    ``power_factor`` (inductive); PV feeds in at unity power factor.

    Raises
    ------
    grid.feeders.UnknownFeederError
        Unknown feeder name.
    grid.buildings.TooManyMetersError
        More buildings than loads.
    grid.buildings.BadPowerFactorError
        ``power_factor`` not in (0, 1].
    PowerFlowDiverged
        A non-finite power, or no convergence.
    """
    meter_ids = tuple(natural_order(buildings))
    meter_kw = np.array([buildings[m][0] for m in meter_ids], dtype=np.float64)
    pv_kw = np.array([buildings[m][1] for m in meter_ids], dtype=np.float64)
    for meter_id, (meter, pv) in zip(meter_ids, zip(meter_kw, pv_kw, strict=True), strict=True):
        _check_finite(**{f"{meter_id} meter_power_kw": meter, f"{meter_id} pv_power_kw": pv})
    q_kvar = reactive_power(meter_kw, power_factor)
    placed, lock = placed_feeder(feeder, meter_ids)
    with lock:
        net = placed.net
        placed.set_powers(meter_kw, pv_kw, power_factor)
        solve(net)
        vm = net.res_bus.vm_pu
        lv_vm = vm[net.bus.vn_kv <= LV_MAX_KV]
        building_vm = vm.loc[placed.bus_index].to_numpy()
        return FeederSnapshot(
            feeder=feeder,
            buildings={m: BuildingResult(vm_pu=float(building_vm[i]), p_kw=float(meter_kw[i] - pv_kw[i]),
                                         q_kvar=float(q_kvar[i])) for i, m in enumerate(meter_ids)},
            grid_p_kw=float(net.res_ext_grid.p_mw.sum()) * 1000.0,
            grid_q_kvar=float(net.res_ext_grid.q_mvar.sum()) * 1000.0,
            vm_min_pu=float(lv_vm.min()),
            vm_max_pu=float(lv_vm.max()),
            trafo_loading_percent=float(net.res_trafo.loading_percent.max()),
            line_loading_max_percent=float(net.res_line.loading_percent.max()),
            losses_kw=float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()) * 1000.0,
        )
