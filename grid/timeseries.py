"""A day of a feeder with buildings, solved as one vectorised batch with power-grid-model.

pandapower builds and describes the network; power-grid-model-io converts it once
(``PandaPowerConverter``) and power-grid-model's batch calculation solves every interval
(Newton-Raphson, the same equations as ``pandapower.runpp``) from arrays of load and PV
updates, in chunks so that memory stays bounded at 1 s resolution. The results agree
with ``pp.runpp`` within 1e-4 pu in every bus voltage (tests/unit/test_grid_timeseries.py).

Sources: power-grid-model (Xiang et al., Alliander, https://power-grid-model.readthedocs.io),
"Batch calculations" and "Power flow algorithms" chapters; power-grid-model-io's
pandapower converter.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from power_grid_model import ComponentAttributeFilterOptions, ComponentType, PowerGridModel
from power_grid_model.errors import PowerGridBatchError, PowerGridError
from power_grid_model_io.converters import PandaPowerConverter

from grid.buildings import PlacedFeeder, check_power_factor, place_buildings, reactive_power
from grid.feeders import cached_feeder
from grid.result import BUILDING_STATE, FEEDER_STATE
from grid.snapshot import LV_MAX_KV, PowerFlowDiverged

CHUNK_STEPS = 7200
"""Intervals per batch calculation: bounds the output arrays (about 40 MB per chunk on a 111-load feeder)."""

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class FeederModel:
    """A placed feeder converted to power-grid-model, with the ids the batch updates and reads.

    ``load_ids`` / ``pv_ids``: power-grid-model ids of the buildings' constant-power
    ``sym_load`` and PV ``sym_gen`` (in ``placed.meter_ids`` order); ``building_nodes``:
    column of each building's bus in the node output; ``lv_nodes``: columns of the
    low-voltage buses; ``bus_nodes``: column of each bus in ``net.bus`` order;
    ``trafo_rated_a``: (n_trafo, 2) rated current at each side [A]; ``line_index`` /
    ``trafo_index``: pandapower index of each column of the line / transformer output.
    """

    placed: PlacedFeeder
    input_data: dict[Any, Any]
    load_ids: npt.NDArray[np.int32]
    pv_ids: npt.NDArray[np.int32]
    building_nodes: npt.NDArray[np.int64]
    lv_nodes: npt.NDArray[np.int64]
    bus_nodes: npt.NDArray[np.int64]
    trafo_rated_a: Array
    line_index: npt.NDArray[np.int64]
    trafo_index: npt.NDArray[np.int64]

    @property
    def meter_ids(self) -> tuple[str, ...]:
        """The buildings, in column order of every (steps, buildings) array."""
        return self.placed.meter_ids


@functools.lru_cache(maxsize=16)
def feeder_model(feeder: str, meter_ids: tuple[str, ...]) -> FeederModel:
    """``meter_ids`` placed on ``feeder`` (see :mod:`grid.buildings`) and converted to power-grid-model.

    Cached per (feeder, meter ids); the first call for a SimBench feeder reads it (4–6 s).

    Raises
    ------
    grid.feeders.UnknownFeederError, grid.buildings.TooManyMetersError
    """
    placed = place_buildings(copy.deepcopy(cached_feeder(feeder)), meter_ids, feeder)
    net = placed.net
    converter = PandaPowerConverter()
    input_data, _ = converter.load_input_data(net, make_extra_info=False)
    node_ids = input_data[ComponentType.node]["id"]
    column = {int(node_id): i for i, node_id in enumerate(node_ids)}
    bus_ids = converter.idx[("bus", None)]
    transformers = input_data[ComponentType.transformer]
    rated_a = np.stack([transformers["sn"] / (np.sqrt(3) * transformers["u1"]),
                        transformers["sn"] / (np.sqrt(3) * transformers["u2"])], axis=1)
    lv_buses = net.bus.index[net.bus.vn_kv <= LV_MAX_KV]
    return FeederModel(
        placed=placed,
        input_data=input_data,
        load_ids=converter.idx[("load", "const_power")].loc[placed.load_index].to_numpy(dtype=np.int32),
        pv_ids=converter.idx[("sgen", None)].loc[placed.pv_index].to_numpy(dtype=np.int32),
        building_nodes=np.array([column[int(bus_ids.loc[b])] for b in placed.bus_index], dtype=np.int64),
        lv_nodes=np.array([column[int(bus_ids.loc[b])] for b in lv_buses], dtype=np.int64),
        bus_nodes=np.array([column[int(bus_ids.loc[b])] for b in net.bus.index], dtype=np.int64),
        trafo_rated_a=rated_a.astype(np.float64),
        line_index=_pandapower_index(converter, "line", input_data[ComponentType.line]["id"]),
        trafo_index=_pandapower_index(converter, "trafo", transformers["id"]),
    )


def _pandapower_index(converter: PandaPowerConverter, table: str, pgm_ids: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    """The pandapower index of each power-grid-model id of ``table`` (``"line"``, ``"trafo"``)."""
    by_id = {int(pgm_id): int(index) for index, pgm_id in converter.idx[(table, None)].items()}
    return np.array([by_id[int(pgm_id)] for pgm_id in pgm_ids], dtype=np.int64)


@dataclass(frozen=True)
class DayResult:
    """A feeder's day, one row per interval (T intervals, B buildings).

    Per interval (T,): ``grid_p_kw`` / ``grid_q_kvar`` drawn through the external grid
    (positive = import) [kW] / [kvar]; ``vm_min_pu`` / ``vm_max_pu`` over the low-voltage
    buses [pu]; ``trafo_loading_percent`` of the most loaded transformer (current-based,
    as pandapower) [%]; ``line_loading_max_percent`` [%]; ``losses_kw`` = grid P − Σ
    building P [kW]. Per building (T, B), columns in ``meter_ids`` order: ``vm_pu`` at the
    connection [pu], ``p_kw`` = meter − PV (positive = drawn) [kW], ``q_kvar`` [kvar].
    """

    feeder: str
    meter_ids: tuple[str, ...]
    grid_p_kw: Array
    grid_q_kvar: Array
    vm_min_pu: Array
    vm_max_pu: Array
    trafo_loading_percent: Array
    line_loading_max_percent: Array
    losses_kw: Array
    vm_pu: Array
    p_kw: Array
    q_kvar: Array

    @property
    def steps(self) -> int:
        """Number of intervals T."""
        return int(self.grid_p_kw.shape[0])

    def feeder_state(self, k: int) -> dict[str, float]:
        """Interval ``k``'s feeder quantities (:data:`grid.result.FEEDER_STATE`, in that order) as floats."""
        return {name: float(getattr(self, name)[k]) for name in FEEDER_STATE}

    def building_states(self, k: int) -> dict[str, dict[str, float]]:
        """Interval ``k``'s buildings: meter id -> its quantities (:data:`grid.result.BUILDING_STATE`) as floats."""
        return {meter_id: {name: float(getattr(self, name)[k, i]) for name in BUILDING_STATE}
                for i, meter_id in enumerate(self.meter_ids)}


_solve_lock = threading.Lock()

Outputs = dict[ComponentType, set[str] | list[str] | ComponentAttributeFilterOptions | None]
_DAY_OUTPUTS: Outputs = {ComponentType.node: ["u_pu"], ComponentType.source: ["p", "q"],
                         ComponentType.line: ["loading"], ComponentType.transformer: ["i_from", "i_to"]}


def _checked(meter_ids: Sequence[str], meter_kw: npt.ArrayLike, pv_kw: npt.ArrayLike,
             power_factor: float) -> tuple[Array, Array]:
    check_power_factor(power_factor)
    meter = np.asarray(meter_kw, dtype=np.float64)
    pv = np.asarray(pv_kw, dtype=np.float64)
    if meter.ndim != 2 or meter.shape != pv.shape or meter.shape[1] != len(meter_ids):
        raise ValueError(f"meter_kw and pv_kw must both be (T, {len(meter_ids)}); "
                         f"got {meter.shape} and {pv.shape}")
    if not (np.isfinite(meter).all() and np.isfinite(pv).all()):
        raise ValueError("meter_kw and pv_kw must be finite")
    return meter, pv


def solve_day(
    feeder: str,
    meter_ids: Sequence[str],
    meter_kw: npt.ArrayLike,
    pv_kw: npt.ArrayLike,
    power_factor: float = 0.95,
    *,
    chunk_steps: int = CHUNK_STEPS,
    threads: int = 0,
) -> DayResult:
    """Solve ``feeder`` for T intervals of B buildings in one vectorised batch.

    Parameters
    ----------
    feeder
        A feeder name (:func:`grid.feeders.available_feeders`).
    meter_ids
        The B buildings, in the order of the columns below; building ``meter_ids[i]`` takes
        the feeder's ``i``-th load (callers sort them with :func:`common.order.natural_order`).
    meter_kw, pv_kw
        (T, B) meter (consumption) and PV power of each building in each interval [kW].
    power_factor
        Of the loads (inductive), in (0, 1]; PV feeds in at unity power factor.
    chunk_steps
        Intervals per batch calculation (memory bound, not a result).
    threads
        power-grid-model threading: 0 = all hardware threads, 1 = sequential.

    Raises
    ------
    ValueError
        Shapes that do not match, or non-finite powers.
    grid.feeders.UnknownFeederError, grid.buildings.TooManyMetersError, grid.buildings.BadPowerFactorError
    PowerFlowDiverged
        If any interval does not converge (the message gives the chunk).
    """
    meter, pv = _checked(meter_ids, meter_kw, pv_kw, power_factor)
    model = feeder_model(feeder, tuple(meter_ids))
    steps = meter.shape[0]
    q = reactive_power(meter, power_factor)
    out = {name: np.empty(steps) for name in ("grid_p_kw", "grid_q_kvar", "vm_min_pu", "vm_max_pu",
                                             "trafo_loading_percent", "line_loading_max_percent")}
    vm = np.empty((steps, len(meter_ids)))
    for chunk, result in batch_results(model, meter, q, pv, _DAY_OUTPUTS, chunk_steps, threads):
        u = result[ComponentType.node]["u_pu"]
        lv = u[:, model.lv_nodes]
        out["grid_p_kw"][chunk] = result[ComponentType.source]["p"].sum(axis=1) / 1e3
        out["grid_q_kvar"][chunk] = result[ComponentType.source]["q"].sum(axis=1) / 1e3
        out["vm_min_pu"][chunk] = lv.min(axis=1)
        out["vm_max_pu"][chunk] = lv.max(axis=1)
        trafo = result[ComponentType.transformer]
        loading = np.maximum(trafo["i_from"] / model.trafo_rated_a[:, 0], trafo["i_to"] / model.trafo_rated_a[:, 1])
        out["trafo_loading_percent"][chunk] = loading.max(axis=1) * 100.0
        out["line_loading_max_percent"][chunk] = result[ComponentType.line]["loading"].max(axis=1) * 100.0
        vm[chunk] = u[:, model.building_nodes]
    p = meter - pv
    losses = out["grid_p_kw"] - p.sum(axis=1)
    return DayResult(feeder=feeder, meter_ids=tuple(meter_ids), losses_kw=losses, vm_pu=vm, p_kw=p, q_kvar=q,
                     **out)


def bus_voltages(feeder: str, meter_ids: Sequence[str], meter_kw: npt.ArrayLike, pv_kw: npt.ArrayLike,
                 power_factor: float = 0.95) -> tuple[npt.NDArray[np.int64], Array]:
    """Voltage of every bus for T intervals (the fast path, for voltage profiles and checks).

    Returns the pandapower bus index (n_bus,) of the placed feeder and vm (T, n_bus) [pu].
    Same inputs and errors as :func:`solve_day`.
    """
    meter, pv = _checked(meter_ids, meter_kw, pv_kw, power_factor)
    model = feeder_model(feeder, tuple(meter_ids))
    q = reactive_power(meter, power_factor)
    buses = model.placed.net.bus.index.to_numpy(dtype=np.int64)
    vm = np.empty((meter.shape[0], buses.shape[0]))
    for chunk, result in batch_results(model, meter, q, pv, {ComponentType.node: ["u_pu"]}, CHUNK_STEPS, 0):
        vm[chunk] = result[ComponentType.node]["u_pu"][:, model.bus_nodes]
    return buses, vm


def batch_results(model: FeederModel, meter: Array, q: Array, pv: Array, outputs: Outputs,
             chunk_steps: int, threads: int) -> Iterator[tuple[slice, dict[Any, Any]]]:
    """power-grid-model batch results of ``outputs``, ``chunk_steps`` intervals at a time.

    ``meter``, ``q``, ``pv``: (T, B) load P [kW], load Q [kvar] and PV P [kW] of the buildings;
    yields (rows of this chunk, power-grid-model batch output). Raises :class:`PowerFlowDiverged`.
    """
    with _solve_lock:  # one batch on the cores at a time
        pgm = PowerGridModel(model.input_data)
        for start in range(0, meter.shape[0], chunk_steps):
            chunk = slice(start, min(meter.shape[0], start + chunk_steps))
            update = {
                ComponentType.sym_load: {"id": np.broadcast_to(model.load_ids, meter[chunk].shape),
                                         "p_specified": meter[chunk] * 1e3, "q_specified": q[chunk] * 1e3},
                ComponentType.sym_gen: {"id": np.broadcast_to(model.pv_ids, pv[chunk].shape),
                                        "p_specified": pv[chunk] * 1e3, "q_specified": np.zeros_like(pv[chunk])},
            }
            try:
                result = pgm.calculate_power_flow(update_data=update, threading=threads,
                                                  output_component_types=outputs)
            except PowerGridBatchError as error:
                failed = chunk.start + int(np.min(error.failed_scenarios))
                message = error.error_messages[int(np.argmin(error.failed_scenarios))].splitlines()[0]
                raise PowerFlowDiverged(f"power flow of '{model.placed.name}' failed in interval {failed} "
                                        f"({len(error.failed_scenarios)} of {chunk.stop - chunk.start} in its batch): "
                                        f"{message}", interval=failed) from None
            except PowerGridError as error:
                raise PowerFlowDiverged(
                    f"power flow of '{model.placed.name}' failed in intervals {chunk.start}-{chunk.stop - 1}: "
                    f"{str(error).splitlines()[0]}") from None
            yield chunk, result
