"""Launching simulations: the five request forms of ``POST /api/simulations`` (and ``runSimulation``).

Each call runs the power flow (through :class:`api.power_flows.PowerFlows`), stores the
simulation and returns it. Blocking and CPU-bound: call it from a worker thread.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from api.db import queries
from api.db.engine import Database
from api.db.models import Simulation
from api.power_flows import PowerFlows, building_kw
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
from models.battery_parameters import BatteryParameters

ASSIGNMENT_P_MW = 0.1
ASSIGNMENT_Q_MVAR = 0.05
"""The assignment's load [MW] / [Mvar] (pandapower's minimal example)."""


FIGURE_KEY = "figure_png_base64"
"""Key of a simulation's stored figure (PNG, base64) in its result; served by ``GET .../{id}/figure.png`` only."""


class NotFound(LookupError):
    """What the request names is not stored (a meter, an interval, a day of results)."""


class DoesNotFit(ValueError):
    """The request does not fit the stored results (a battery for intervals that already carry one)."""


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
            launched_at=launched_at, kind=kind, request=request.model_dump(mode="json", exclude_none=True),
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
        state = self.flows.buildings(self.feeder, {interval.meter_id: building_kw(
            interval.meter_power_kw, interval.pv_power_kw, interval.battery_power_kw)})
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
                **({} if interval.battery_power_kw is None else {
                    "battery_power_kw": interval.battery_power_kw, "battery_soc_kwh": interval.battery_soc_kwh}),
            },
        }

    def _day(self, request: DayRequest) -> dict[str, Any]:
        start, end = day_window(request.date, self.tz)
        intervals: list[dict[str, Any]] = self.db.run(lambda session: [
            {"meter_id": i.meter_id, "interval_start": i.interval_start, "interval_s": i.interval_s,
             "meter_power_kw": i.meter_power_kw, "pv_power_kw": i.pv_power_kw, "battery_power_kw": i.battery_power_kw}
            for i in queries.intervals_between(session, start, end)])
        if not intervals:
            raise NotFound(f"no live results stored for {request.date} ({self.tz.key})")
        battery = request.battery
        end_soc_kwh = None
        if battery is not None and battery.battery_kwh > 0:
            end_soc_kwh = add_battery(intervals, battery, request.pv_kwp, self.tz)
        for item in intervals:
            item["meter_power_kw"], item["pv_power_kw"] = building_kw(
                item["meter_power_kw"], item["pv_power_kw"], item.pop("battery_power_kw"))
        result = self.flows.day(request.feeder, intervals, request.date, self.tz.key)
        if end_soc_kwh is not None:
            result.setdefault("details", {})["battery_end_soc_kwh"] = end_soc_kwh
        return result


def add_battery(intervals: list[dict[str, Any]], battery: BatteryParameters, pv_kwp: float | None,
                tz: ZoneInfo) -> dict[str, float]:
    """Give each meter's ``intervals`` (dicts with ``meter_id``, ``interval_start``, ``interval_s``, means
    ``meter_power_kw`` and ``pv_power_kw`` [kW]) a battery of ``battery``'s settings, in place.

    The battery (:func:`models.battery.dispatch`) runs over each meter's intervals in time order from its
    initial state of charge, one step per interval (their means: coarser than the PV simulator's
    per-reading dispatch, which sees every peak); ``battery_power_kw`` is set and curtailed PV taken off
    ``pv_power_kw``. ``pv_kwp`` [kWp]: the PV's peak power, for the ``grid-friendly`` strategy. Returns
    each meter's state of charge at the end [kWh].

    Raises
    ------
    DoesNotFit
        If a meter's stored intervals already carry a battery.
    """
    from models.battery import dispatch  # numba: compiled at the first battery request, not at start

    by_meter: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in intervals:
        by_meter[str(item["meter_id"])].append(item)
    spec = battery.battery_spec(pv_kwp or 0.0)
    assert spec is not None  # battery_kwh > 0
    end_soc_kwh = {}
    for meter_id, rows in by_meter.items():
        if any(row["battery_power_kw"] is not None for row in rows):
            raise DoesNotFit(f"the stored intervals of '{meter_id}' already carry a battery (battery_power_kw); "
                             "a day request's battery would be a second one: leave out 'battery'")
        rows.sort(key=lambda row: row["interval_start"])
        middle = [row["interval_start"] + dt.timedelta(seconds=row["interval_s"] / 2) for row in rows]
        done = dispatch([row["meter_power_kw"] for row in rows], [row["pv_power_kw"] for row in rows],
                        [row["interval_s"] for row in rows], spec, battery.initial_soc_kwh(),
                        [(t.astimezone(tz) - t.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0))
                         .total_seconds() / 3600 for t in middle])
        for row, power_kw, curtailed_kw in zip(rows, done.battery_power_kw, done.curtailed_kw, strict=True):
            row["battery_power_kw"] = float(power_kw)
            row["pv_power_kw"] -= float(curtailed_kw)
        end_soc_kwh[meter_id] = round(done.soc_kwh, 7)
    return end_soc_kwh


def day_window(day: dt.date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants of the local midnight starting ``day`` and of the next one."""
    start_s, end_s = day_bounds_s(day, tz)
    return datetime.fromtimestamp(start_s, UTC), datetime.fromtimestamp(end_s, UTC)
