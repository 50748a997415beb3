"""The power flows the web service runs, through the ``grid`` package (never reimplemented here).

:class:`PowerFlows` is the seam: :class:`GridPowerFlows` calls ``grid``; tests of the
plumbing may pass a fake. Results are JSON-ready dicts with units in their keys.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class PowerFlowError(ValueError):
    """The power flow cannot be run for this input (it diverged, or the input does not fit the network)."""


class PowerFlows(Protocol):
    """The power flows behind the API (each call is CPU-bound and blocking; run it in a thread)."""

    def load(self, p_mw: float, q_mvar: float) -> dict[str, Any]:
        """The assignment's network with a load of ``p_mw`` [MW] / ``q_mvar`` [Mvar].

        Returns ``active_power_mw``, ``reactive_power_mvar`` (the load's), ``grid_p_mw``,
        ``grid_q_mvar``, ``losses_mw``, ``bus_vm_pu``, ``line_loading_percent``,
        ``trafo_loading_percent``. Raises :class:`PowerFlowError`.
        """
        ...

    def buildings(self, feeder: str, powers_kw: Mapping[str, tuple[float, float]]) -> dict[str, Any]:
        """Feeder ``feeder`` with each meter's building at ``(meter_power_kw, pv_power_kw)``.

        Returns ``grid_p_kw``, ``grid_q_kvar``, ``vm_min_pu``, ``vm_max_pu``,
        ``trafo_loading_percent``, ``line_loading_max_percent``, ``losses_kw`` and
        ``buildings`` (meter id → ``vm_pu``, ``p_kw``, ``q_kvar``). Raises :class:`PowerFlowError`.
        """
        ...

    def day(self, feeder: str, intervals: Sequence[Mapping[str, Any]], date: dt.date, timezone: str) -> dict[str, Any]:
        """Feeder ``feeder`` over a day of interval means (dicts with ``meter_id``, ``interval_start``,
        ``interval_s``, ``meter_power_kw``, ``pv_power_kw``): the day's summary and series.
        Raises :class:`PowerFlowError`.
        """
        ...

    def feeders(self) -> list[str]:
        """Names of the feeders the grid package knows."""
        ...


def _plain(value: Any) -> Any:
    """JSON-ready: dataclasses to dicts, numpy scalars to floats, mapping keys to strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


class GridPowerFlows:
    """:class:`PowerFlows` through ``grid.snapshot`` and ``grid.timeseries`` (pandapower, power-grid-model)."""

    def __init__(self, power_factor: float = 0.95) -> None:
        self.power_factor = power_factor

    def feeders(self) -> list[str]:
        from grid.feeders import available_feeders

        return available_feeders()

    def load(self, p_mw: float, q_mvar: float) -> dict[str, Any]:
        from grid.snapshot import PowerFlowDiverged, run_load_snapshot

        try:
            result = run_load_snapshot(p_mw=p_mw, q_mvar=q_mvar)
        except PowerFlowDiverged as error:
            raise PowerFlowError(f"the power flow did not converge for p_mw={p_mw}, q_mvar={q_mvar}: {error}") from None
        return _plain(result)

    def buildings(self, feeder: str, powers_kw: Mapping[str, tuple[float, float]]) -> dict[str, Any]:
        from grid.snapshot import run_buildings_snapshot

        try:
            result = run_buildings_snapshot(feeder, dict(powers_kw), power_factor=self.power_factor)
        except ValueError as error:  # unknown feeder, too many meters, diverged
            raise PowerFlowError(str(error)) from None
        return _plain(result)

    def day(self, feeder: str, intervals: Sequence[Mapping[str, Any]], date: dt.date, timezone: str) -> dict[str, Any]:
        from grid.timeseries import solve_day

        try:
            result = solve_day(feeder, intervals, power_factor=self.power_factor)  # type: ignore[call-arg]
        except ValueError as error:
            raise PowerFlowError(str(error)) from None
        return _plain(result)
