"""Launching simulations: the five request forms of ``POST /api/simulations`` (and ``runSimulation``).

Each call runs the power flow (through :class:`api.power_flows.PowerFlows`), stores the
simulation and returns it. Blocking and CPU-bound: call it from a worker thread.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from api.db import queries
from api.db.engine import Database
from api.db.models import Simulation
from api.power_flows import PowerFlows
from api.schemas import (
    AssignmentRequest,
    BuildingRequest,
    DayRequest,
    HostingRequest,
    LoadRequest,
    SimulationOut,
    SimulationRequest,
)
from common.clock import day_bounds_s

ASSIGNMENT_P_MW = 0.1
ASSIGNMENT_Q_MVAR = 0.05
"""The assignment's load [MW] / [Mvar] (pandapower's minimal example)."""


FIGURE_KEY = "figure_png_base64"
"""Key of a simulation's stored figure (PNG, base64) in its result; served by ``GET .../{id}/figure.png`` only."""


class NotFound(LookupError):
    """What the request names is not stored (a meter, an interval, a day of results)."""


def simulation_out(row: Simulation) -> SimulationOut:
    """The API shape of a stored simulation."""
    result = row.result
    return SimulationOut(
        id=row.id, launched_at=row.launched_at, kind=row.kind, request=row.request,  # type: ignore[arg-type]
        active_power_mw=row.active_power_mw, reactive_power_mvar=row.reactive_power_mvar,
        grid_p_mw=result.get("grid_p_mw"), grid_q_mvar=result.get("grid_q_mvar"), losses_mw=result.get("losses_mw"),
        bus_vm_pu=result.get("bus_vm_pu", {}), line_loading_percent=result.get("line_loading_percent", {}),
        trafo_loading_percent=result.get("trafo_loading_percent", {}), details=result.get("details", {}),
    )


class Simulations:
    """Runs and stores simulations on the configured ``feeder`` with the site's timezone ``tz``."""

    def __init__(self, db: Database, flows: PowerFlows, feeder: str, tz: ZoneInfo) -> None:
        self.db = db
        self.flows = flows
        self.feeder = feeder
        self.tz = tz

    def launch(self, request: SimulationRequest | None,
               progress: Callable[[int, int], None] | None = None) -> SimulationOut:
        """Run the power flow ``request`` asks for, store it, return it.

        ``progress(done, total)``: called while a long simulation (``hosting-capacity``) runs.

        Raises
        ------
        NotFound
            A building request naming no stored interval, a day request without stored results.
        api.power_flows.PowerFlowError
            The power flow diverged or the input does not fit the network.
        api.db.engine.DatabaseUnavailable
            The database is unreachable.
        """
        launched_at = datetime.now(UTC)
        request = request or AssignmentRequest()
        if isinstance(request, LoadRequest):
            kind, result = "load", self.flows.load(request.p_mw, request.q_mvar)
        elif isinstance(request, BuildingRequest):
            kind, result = "building", self._building(request)
        elif isinstance(request, DayRequest):
            kind, result = "day", self._day(request)
        elif isinstance(request, HostingRequest):
            kind, result = "hosting-capacity", self.flows.hosting_capacity(request.feeder, request.scenarios,
                                                                           request.seed, progress)
        else:
            kind, result = "assignment", self.flows.load(ASSIGNMENT_P_MW, ASSIGNMENT_Q_MVAR)
        row = Simulation(
            launched_at=launched_at, kind=kind, request=request.model_dump(mode="json"),
            active_power_mw=float(result["active_power_mw"]), reactive_power_mvar=float(result["reactive_power_mvar"]),
            result={key: value for key, value in result.items()
                    if key not in ("active_power_mw", "reactive_power_mvar")},
        )
        return self.db.run(lambda session: simulation_out(queries.add_simulation(session, row)))

    def _building(self, request: BuildingRequest) -> dict[str, Any]:
        def find(session: Any) -> Any:
            if not queries.meter_exists(session, request.meter_id):
                raise NotFound(f"unknown meter '{request.meter_id}': no live results stored for it")
            interval = queries.interval_containing(session, request.meter_id, request.timestamp.astimezone(UTC))
            if interval is None:
                raise NotFound(f"no stored interval of '{request.meter_id}' contains {request.timestamp.isoformat()}")
            return interval

        interval = self.db.run(find)
        state = self.flows.buildings(
            self.feeder, {interval.meter_id: (interval.meter_power_kw, interval.pv_power_kw)})
        building = state["buildings"][interval.meter_id]
        return {
            "active_power_mw": float(building["p_kw"]) / 1000.0,
            "reactive_power_mvar": float(building["q_kvar"]) / 1000.0,
            "grid_p_mw": float(state["grid_p_kw"]) / 1000.0, "grid_q_mvar": float(state["grid_q_kvar"]) / 1000.0,
            "losses_mw": float(state["losses_kw"]) / 1000.0,
            "bus_vm_pu": {f"{interval.meter_id}": float(building["vm_pu"]), "min": float(state["vm_min_pu"]),
                          "max": float(state["vm_max_pu"])},
            "line_loading_percent": {"max": float(state["line_loading_max_percent"])},
            "trafo_loading_percent": {"max": float(state["trafo_loading_percent"])},
            "details": {
                "feeder": self.feeder, "meter_id": interval.meter_id,
                "interval_start": interval.interval_start.isoformat().replace("+00:00", "Z"),
                "interval_s": interval.interval_s, "meter_power_kw": interval.meter_power_kw,
                "pv_power_kw": interval.pv_power_kw, "net_power_kw": interval.net_power_kw,
            },
        }

    def _day(self, request: DayRequest) -> dict[str, Any]:
        start, end = day_window(request.date, self.tz)
        intervals = self.db.run(lambda session: [
            {"meter_id": i.meter_id, "interval_start": i.interval_start, "interval_s": i.interval_s,
             "meter_power_kw": i.meter_power_kw, "pv_power_kw": i.pv_power_kw}
            for i in queries.intervals_between(session, start, end)])
        if not intervals:
            raise NotFound(f"no live results stored for {request.date} ({self.tz.key})")
        return self.flows.day(request.feeder, intervals, request.date, self.tz.key)


def day_window(day: dt.date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants of the local midnight starting ``day`` and of the next one."""
    start_s, end_s = day_bounds_s(day, tz)
    return datetime.fromtimestamp(start_s, UTC), datetime.fromtimestamp(end_s, UTC)
