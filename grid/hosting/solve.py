"""Every step of every deployment solved as power-grid-model batch updates, stopping each at its first violation.

The feeder's loads are the buildings (:mod:`grid.buildings` puts a PV generator at each);
at the operating point every building draws ``load_share`` of its rated power (at the
building model's power factor) and its PV feeds ``pv_share`` of its kWp. Steps are solved
in rounds of a few steps for the scenarios still without a violation, so a scenario that
fails early costs little; each round goes through :func:`grid.timeseries.batch_results`
in chunks of :data:`CHUNK_ROWS` power flows (memory bound).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from power_grid_model import ComponentType

from grid.buildings import reactive_power
from grid.feeders import cached_feeder
from grid.hosting.scenarios import (
    KINDS,
    LOAD_SHARE,
    LOADING_MAX_PERCENT,
    NONE,
    PV_SHARE,
    VM_MAX_PU,
    Array,
    IntArray,
    Scenarios,
)
from grid.timeseries import FeederModel, Outputs, batch_results, feeder_model

CHUNK_ROWS = 20_000
"""Power flows per batch calculation (about 25 MB of output on the 129-bus ``1-LV-rural3``)."""
ROUNDS = 8
"""A scenario's B steps are solved in about this many rounds (fewer wasted steps after a violation)."""

_OUTPUTS: Outputs = {ComponentType.node: ["u_pu"], ComponentType.line: ["loading"],
                     ComponentType.transformer: ["i_from", "i_to"]}


class HostingInputError(ValueError):
    """Settings this feeder cannot be checked against (e.g. a limit already violated without PV)."""


@dataclass(frozen=True)
class Limits:
    """``vm_max_pu`` [pu]; ``voltage_rise_percent`` against the feeder without PV [%] (None: not checked);
    ``loading_max_percent`` of lines and transformers [%]."""

    vm_max_pu: float = VM_MAX_PU
    voltage_rise_percent: float | None = None
    loading_max_percent: float = LOADING_MAX_PERCENT


@dataclass(frozen=True)
class OperatingPoint:
    """PV output ``pv_share`` of kWp [-]; building load ``load_share`` of its rated power [-] at ``power_factor``."""

    pv_share: float = PV_SHARE
    load_share: float = LOAD_SHARE
    power_factor: float = 0.95


@dataclass(frozen=True)
class HostingFeeder:
    """A feeder prepared for hosting capacity: B buildings (its loads, table order) converted to power-grid-model.

    ``rated_kw`` (B,): each building's rated load [kW]; ``load_kw`` / ``load_kvar`` (B,) at the operating
    point; ``base_vm_pu``: voltage of the low-voltage buses without PV [pu]; ``trafo_kva``: total
    transformer rating [kVA]; ``lv_bus_names``, ``line_names``, ``trafo_names``: element names in the
    column order of the solver's output.
    """

    name: str
    model: FeederModel
    building_names: tuple[str, ...]
    rated_kw: Array
    load_kw: Array
    load_kvar: Array
    operating: OperatingPoint
    base_vm_pu: Array
    base_line_percent: Array
    base_trafo_percent: Array
    trafo_kva: float
    lv_bus_names: tuple[str, ...]
    line_names: tuple[str, ...]
    trafo_names: tuple[str, ...]

    @property
    def buildings(self) -> int:
        """Number of buildings B."""
        return len(self.building_names)


@dataclass(frozen=True)
class Violations:
    """Per scenario (S,): ``first_step`` 1..B of the first violation (0: none), the binding ``kind``
    (:data:`~grid.hosting.scenarios.KINDS` or ``"none"``), its ``element`` name, its ``value`` (vm [pu],
    rise [%] or loading [%]; NaN if none) and ``kinds``: every kind violated at that step, ';'-joined."""

    first_step: IntArray
    kind: npt.NDArray[np.str_]
    element: npt.NDArray[np.str_]
    value: Array
    kinds: npt.NDArray[np.str_]


def prepare(feeder: str, operating: OperatingPoint | None = None) -> HostingFeeder:
    """``feeder``'s loads as buildings at the operating point, with its no-PV state solved.

    Raises
    ------
    grid.feeders.UnknownFeederError
        Unknown feeder name.
    grid.buildings.BadPowerFactorError, grid.snapshot.PowerFlowDiverged
    """
    operating = operating or OperatingPoint()
    net = cached_feeder(feeder)
    names = [str(n) if isinstance(n, str) and n else f"load {i}" for i, n in zip(net.load.index, net.load.name,
                                                                                  strict=True)]
    if len(set(names)) < len(names):
        names = [f"load {i}" for i in net.load.index]
    model = feeder_model(feeder, tuple(names))
    rated_kw = net.load.p_mw.to_numpy(dtype=np.float64) * 1e3
    load_kw = rated_kw * operating.load_share
    load_kvar = reactive_power(load_kw, operating.power_factor)
    placed = model.placed.net
    lv_buses = placed.bus.index[placed.bus.vn_kv <= 1.0]
    hosting = HostingFeeder(
        name=feeder, model=model, building_names=tuple(names), rated_kw=rated_kw, load_kw=load_kw,
        load_kvar=load_kvar, operating=operating, base_vm_pu=np.empty(0), base_line_percent=np.empty(0),
        base_trafo_percent=np.empty(0), trafo_kva=float(placed.trafo.sn_mva.sum() * 1e3),
        lv_bus_names=tuple(str(n) for n in placed.bus.name.loc[lv_buses]),
        line_names=tuple(str(n) for n in placed.line.name.loc[model.line_index]),
        trafo_names=tuple(str(n) for n in placed.trafo.name.loc[model.trafo_index]))
    vm, line, trafo = _solve(hosting, np.zeros((1, len(names))))
    object.__setattr__(hosting, "base_vm_pu", vm[0])
    object.__setattr__(hosting, "base_line_percent", line[0])
    object.__setattr__(hosting, "base_trafo_percent", trafo[0])
    return hosting


def _solve(hosting: HostingFeeder, pv_kw: Array, chunk_rows: int = CHUNK_ROWS) -> tuple[Array, Array, Array]:
    """(rows, B) PV output [kW] -> LV bus vm [pu], line loading [%], trafo loading [%], one row each."""
    model = hosting.model
    rows = pv_kw.shape[0]
    load = np.broadcast_to(hosting.load_kw, pv_kw.shape)
    q = np.broadcast_to(hosting.load_kvar, pv_kw.shape)
    vm = np.empty((rows, model.lv_nodes.shape[0]))
    line = np.empty((rows, model.line_index.shape[0]))
    trafo = np.empty((rows, model.trafo_index.shape[0]))
    for chunk, result in batch_results(model, load, q, pv_kw, _OUTPUTS, chunk_rows, 0):
        vm[chunk] = result[ComponentType.node]["u_pu"][:, model.lv_nodes]
        line[chunk] = result[ComponentType.line]["loading"] * 100.0
        currents = result[ComponentType.transformer]
        trafo[chunk] = np.maximum(currents["i_from"] / model.trafo_rated_a[:, 0],
                                  currents["i_to"] / model.trafo_rated_a[:, 1]) * 100.0
    return vm, line, trafo


def check_base(hosting: HostingFeeder, limits: Limits) -> None:
    """Raise :class:`HostingInputError` if the feeder without PV already violates ``limits``."""
    vm_max = float(hosting.base_vm_pu.max())
    if vm_max > limits.vm_max_pu:
        raise HostingInputError(f"--vm-max-pu {limits.vm_max_pu} is below the voltage of feeder '{hosting.name}' "
                                f"without PV ({vm_max:.4f} pu)")
    loading = max(float(hosting.base_line_percent.max(initial=0.0)), float(hosting.base_trafo_percent.max()))
    if loading > limits.loading_max_percent:
        raise HostingInputError(f"--loading-max-percent {limits.loading_max_percent} is below the loading of feeder "
                                f"'{hosting.name}' without PV ({loading:.1f} %)")


def _violations(hosting: HostingFeeder, limits: Limits, vm: Array, line: Array,
                trafo: Array) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], IntArray, Array]:
    """Per row: any violation, which kinds (rows, 4), the worst element's column per kind, its value per kind."""
    rise = (vm - hosting.base_vm_pu) * 100.0
    values = [vm, rise, line, trafo]
    bounds = [limits.vm_max_pu, limits.voltage_rise_percent, limits.loading_max_percent, limits.loading_max_percent]
    rows = vm.shape[0]
    failed = np.zeros((rows, len(KINDS)), dtype=bool)
    column = np.zeros((rows, len(KINDS)), dtype=np.int64)
    worst = np.full((rows, len(KINDS)), np.nan)
    for k, (value, bound) in enumerate(zip(values, bounds, strict=True)):
        if value.shape[1] == 0:
            continue
        column[:, k] = value.argmax(axis=1)
        worst[:, k] = value[np.arange(rows), column[:, k]]
        if bound is not None:
            failed[:, k] = worst[:, k] > bound
    return np.asarray(failed.any(axis=1), dtype=bool), failed, column, worst


def find_violations(hosting: HostingFeeder, scenarios: Scenarios, limits: Limits, chunk_rows: int = CHUNK_ROWS,
                    progress: Callable[[int, int], None] | None = None) -> Violations:
    """The first violating step of each scenario, solving only steps up to it (plus the rest of its round).

    ``progress(step, B)`` is called after each round with the last step solved (B at the end).

    Raises
    ------
    ValueError
        If ``scenarios`` has a different number of buildings than the feeder.
    grid.snapshot.PowerFlowDiverged
        If a power flow does not converge.
    """
    if scenarios.buildings != hosting.buildings:
        raise ValueError(f"scenarios of {scenarios.buildings} buildings on a feeder of {hosting.buildings}")
    count, buildings = scenarios.count, scenarios.buildings
    first = np.zeros(count, dtype=np.int64)
    kind = np.full(count, NONE, dtype=object)
    element = np.full(count, "", dtype=object)
    value = np.full(count, np.nan)
    kinds = np.full(count, "", dtype=object)
    names = [hosting.lv_bus_names, hosting.lv_bus_names, hosting.line_names, hosting.trafo_names]
    per_round = max(1, math.ceil(buildings / ROUNDS))
    for start in range(1, buildings + 1, per_round):
        active = np.flatnonzero(first == 0)
        if active.size == 0:
            break
        steps = np.arange(start, min(buildings, start + per_round - 1) + 1)
        pv_kw = scenarios.pv_kwp(active, steps).reshape(-1, buildings) * hosting.operating.pv_share
        failed_row, failed, column, worst = _violations(hosting, limits, *_solve(hosting, pv_kw, chunk_rows))
        failed_row = failed_row.reshape(active.size, steps.size)
        hit = failed_row.any(axis=1)
        at = failed_row.argmax(axis=1)
        for scenario, offset in zip(active[hit], at[hit], strict=True):
            row = np.flatnonzero(active == scenario)[0] * steps.size + offset
            which = np.flatnonzero(failed[row])
            k = int(which[0])
            first[scenario] = steps[offset]
            kind[scenario] = KINDS[k]
            element[scenario] = names[k][column[row, k]]
            value[scenario] = worst[row, k]
            kinds[scenario] = ";".join(KINDS[int(i)] for i in which)
        if progress is not None and steps[-1] < buildings:
            progress(int(steps[-1]), buildings)
    if progress is not None:
        progress(buildings, buildings)
    return Violations(first_step=first, kind=kind.astype(str), element=element.astype(str), value=value,
                      kinds=kinds.astype(str))


def state_vm_pu(hosting: HostingFeeder, scenarios: Scenarios, scenario: int, step: int) -> Array:
    """Voltage of every bus (``net.bus`` order of the placed feeder) with PV on the first ``step`` buildings [pu]."""
    pv_kw = scenarios.pv_kwp(np.array([scenario]), np.array([step])).reshape(1, -1) * hosting.operating.pv_share
    model = hosting.model
    load = hosting.load_kw[None, :]
    q = hosting.load_kvar[None, :]
    for _, result in batch_results(model, load, q, pv_kw, {ComponentType.node: ["u_pu"]}, 1, 0):
        return np.asarray(result[ComponentType.node]["u_pu"][0, model.bus_nodes], dtype=np.float64)
    raise AssertionError("no batch result")  # pragma: no cover
