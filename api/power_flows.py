"""The power flows the web service runs, through the ``grid`` package (never reimplemented here).

:class:`PowerFlows` is the seam: :class:`GridPowerFlows` calls ``grid``; tests of the
plumbing may pass a fake. Results are JSON-ready dicts with units in their keys.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol
from zoneinfo import ZoneInfo


def building_kw(meter_power_kw: float, pv_power_kw: float, battery_power_kw: float | None) -> tuple[float, float]:
    """The ``(meter_power_kw, pv_power_kw)`` a building's power flow takes [kW], with its battery if it has one.

    The battery (positive while charging) nets with the PV: both sit behind the meter at unity power
    factor, so the building draws P = meter − PV + battery and Q from the meter's load alone.
    """
    return meter_power_kw, pv_power_kw - (battery_power_kw or 0.0)


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

    def buildings_series(self, feeder: str, powers_kw: Sequence[Mapping[str, tuple[float, float]]]
                         ) -> list[dict[str, Any]]:
        """:meth:`buildings` for several instants with the same meters, solved as one batch."""
        ...

    def day(self, feeder: str, intervals: Sequence[Mapping[str, Any]], date: dt.date, timezone: str) -> dict[str, Any]:
        """Feeder ``feeder`` over a day of interval means (dicts with ``meter_id``, ``interval_start``,
        ``interval_s``, ``meter_power_kw``, ``pv_power_kw``): the day's summary and series.
        Raises :class:`PowerFlowError`.
        """
        ...

    def hosting_capacity(self, feeder: str, scenarios: int, seed: int,
                         progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Feeder ``feeder``'s stochastic PV hosting capacity over ``scenarios`` deployments drawn from ``seed``.

        ``progress(step, buildings)`` is called (from the calling thread) as the steps are solved.

        Returns ``active_power_mw`` / ``reactive_power_mvar`` (0: no single load), ``bus_vm_pu`` (the
        median scenario at its capacity), ``details``: the study's summary, and ``figure_png_base64``: its
        figure. Raises :class:`PowerFlowError`.
        """
        ...

    def feeders(self) -> list[str]:
        """Names of the feeders the grid package knows."""
        ...

    def warm_up(self, feeder: str) -> None:
        """Build the assignment's network and ``feeder`` once, so the first request is not the slow one."""
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

    def warm_up(self, feeder: str) -> None:
        from grid.feeders import cached_feeder

        self.load(0.1, 0.05)
        cached_feeder(feeder)

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

    def buildings_series(self, feeder: str, powers_kw: Sequence[Mapping[str, tuple[float, float]]]
                         ) -> list[dict[str, Any]]:
        """Through ``grid.timeseries.solve_day`` (power-grid-model's batch), same keys as :meth:`buildings`."""
        import numpy as np

        from common.order import natural_order
        from grid.timeseries import solve_day

        meter_ids = natural_order(powers_kw[0])
        meter_kw = np.array([[step[m][0] for m in meter_ids] for step in powers_kw], dtype=np.float64)
        pv_kw = np.array([[step[m][1] for m in meter_ids] for step in powers_kw], dtype=np.float64)
        try:
            result = solve_day(feeder, meter_ids, meter_kw, pv_kw, power_factor=self.power_factor)
        except ValueError as error:  # unknown feeder, too many meters, diverged
            raise PowerFlowError(str(error)) from None
        return [{"feeder": feeder, "buildings": result.building_states(k), **result.feeder_state(k)}
                for k in range(len(powers_kw))]

    def hosting_capacity(self, feeder: str, scenarios: int, seed: int,
                         progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Through ``grid.hosting.run.study`` with the command's default limits and operating point."""
        from grid.hosting.run import study
        from grid.hosting.settings import HostingSettings

        try:
            chosen: dict[str, Any] = {"feeder": feeder, "scenarios": scenarios, "seed": seed,
                                      "power_factor": self.power_factor}
            settings = HostingSettings(**chosen)  # the other settings: their defaults (or PVSIM_* environment)
            result = study(settings, progress)
        except ValueError as error:  # a limit violated without PV, diverged
            raise PowerFlowError(str(error)) from None
        return {"active_power_mw": 0.0, "reactive_power_mvar": 0.0, "bus_vm_pu": result.median_vm_pu,
                "details": _plain(result.summary),
                "figure_png_base64": base64.b64encode(result.figure_png).decode("ascii")}

    def day(self, feeder: str, intervals: Sequence[Mapping[str, Any]], date: dt.date, timezone: str) -> dict[str, Any]:
        """The day through ``grid.timeseries.solve_day`` (one batch) and ``grid.summary.summarize_day``.

        Only intervals that every meter of the day reported are solved (the series says which).
        The load's P and Q are the buildings' means over those intervals [MW] / [Mvar].
        """
        import numpy as np

        from common.order import natural_order
        from grid.summary import summarize_day
        from grid.timeseries import solve_day

        meter_ids = natural_order({str(i["meter_id"]) for i in intervals})
        by_start: dict[dt.datetime, dict[str, Mapping[str, Any]]] = {}
        for item in intervals:
            by_start.setdefault(item["interval_start"], {})[str(item["meter_id"])] = item
        starts = sorted(start for start, meters in by_start.items() if len(meters) == len(meter_ids))
        if not starts:
            raise PowerFlowError(f"no interval of {date} has results from every meter ({', '.join(meter_ids)})")
        meter_kw = np.array([[by_start[s][m]["meter_power_kw"] for m in meter_ids] for s in starts])
        pv_kw = np.array([[by_start[s][m]["pv_power_kw"] for m in meter_ids] for s in starts])
        try:
            result = solve_day(feeder, meter_ids, meter_kw, pv_kw, power_factor=self.power_factor)
        except ValueError as error:  # unknown feeder, too many meters, diverged
            raise PowerFlowError(str(error)) from None
        tz = ZoneInfo(timezone)
        local = [start.astimezone(tz).isoformat() for start in starts]
        resolution_s = int(by_start[starts[0]][meter_ids[0]]["interval_s"])
        summary = summarize_day(result, local, resolution_s, date.isoformat())
        series = [{"interval_start": start.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
                   **result.feeder_state(k)} for k, start in enumerate(starts)]
        hours = resolution_s / 3600.0
        return {
            "active_power_mw": float(result.p_kw.sum(axis=1).mean()) / 1000.0,
            "reactive_power_mvar": float(result.q_kvar.sum(axis=1).mean()) / 1000.0,
            "grid_p_mw": float(result.grid_p_kw.mean()) / 1000.0,
            "grid_q_mvar": float(result.grid_q_kvar.mean()) / 1000.0,
            "losses_mw": float(result.losses_kw.mean()) / 1000.0,
            "bus_vm_pu": {f"{m} min": float(result.vm_pu[:, i].min()) for i, m in enumerate(meter_ids)},
            "line_loading_percent": {"max": float(result.line_loading_max_percent.max())},
            "trafo_loading_percent": {"max": float(result.trafo_loading_percent.max())},
            "details": {"feeder": feeder, "date": date.isoformat(), "timezone": timezone, "meters": meter_ids,
                        "intervals": len(starts), "energy_hours": hours, "summary": _plain(summary),
                        "series": series},
        }
