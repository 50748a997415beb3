"""The grid result, defined once: what a power flow of a feeder with pvsim's buildings gives per instant.

:class:`FeederSnapshot` and :class:`BuildingResult` are the shape (:mod:`grid.snapshot` returns them, and
:class:`grid.timeseries.DayResult` holds the same quantities as arrays, one per interval);
:data:`FEEDER_STATE` and :data:`BUILDING_STATE` name their quantities, with the unit in each name, for
everything that restates them: the grid CSV headers (:mod:`grid.output`), the web service's grid results
(``api.power_flows``, ``api.live.grid``) and, checked by ``tests/unit/test_shapes.py``, its REST, GraphQL
and database shapes. Importable without pandapower.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class BuildingResult:
    """One building at one instant: voltage at its connection ``vm_pu`` [pu], net active power
    ``p_kw`` = meter − PV (positive = drawn from the grid) [kW], reactive power ``q_kvar`` [kvar]."""

    vm_pu: float
    p_kw: float
    q_kvar: float


@dataclass(frozen=True)
class FeederSnapshot:
    """A feeder with buildings at one instant.

    ``buildings``: meter_id -> :class:`BuildingResult`; ``grid_p_kw`` / ``grid_q_kvar``: drawn
    through the external grid, positive = import [kW] / [kvar]; ``vm_min_pu`` / ``vm_max_pu``:
    extreme voltages over the low-voltage buses (≤ 1 kV) [pu]; ``trafo_loading_percent``: the
    most loaded transformer [%]; ``line_loading_max_percent``: the most loaded line [%];
    ``losses_kw``: line and transformer losses (copper and iron) [kW].
    """

    feeder: str
    buildings: dict[str, BuildingResult]
    grid_p_kw: float
    grid_q_kvar: float
    vm_min_pu: float
    vm_max_pu: float
    trafo_loading_percent: float
    line_loading_max_percent: float
    losses_kw: float


BUILDING_STATE: tuple[str, ...] = tuple(field.name for field in fields(BuildingResult))
"""A building's quantities: ``vm_pu`` [pu], ``p_kw`` [kW], ``q_kvar`` [kvar]."""
FEEDER_STATE: tuple[str, ...] = tuple(field.name for field in fields(FeederSnapshot)
                                      if field.name not in ("feeder", "buildings"))
"""The feeder's quantities, in the grid CSV's column order: ``grid_p_kw`` [kW], ``grid_q_kvar`` [kvar],
``vm_min_pu``, ``vm_max_pu`` [pu], ``trafo_loading_percent``, ``line_loading_max_percent`` [%], ``losses_kw`` [kW]."""
