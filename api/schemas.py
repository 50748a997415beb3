"""HTTP and live-message shapes of the web service (Pydantic), defined once for REST, WebSocket and GraphQL.

Units are in the names: [MW], [Mvar], [kW], [kvar], [pu], [%]. Timestamps are UTC ISO 8601 with ``Z``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from common.schema import EARLIEST, LATEST, MeterId
from grid.layout import check_feeder_name
from models.battery_parameters import BatteryParameters

MAX_LOAD_MW = 100.0
"""Largest load accepted on the assignment's network [MW] (far beyond what its 0.4 kV line carries)."""


FIRST_DAY = EARLIEST.date() + dt.timedelta(days=1)
LAST_DAY = LATEST.date() - dt.timedelta(days=1)
"""First and last local day [date] whose every instant, in any timezone, lies within the wire
contract's range (:data:`common.schema.EARLIEST` to :data:`common.schema.LATEST`)."""


def day_problem(day: dt.date) -> str | None:
    """What is wrong with ``day`` as a day of results, or ``None`` if it is within the wire contract's range."""
    if FIRST_DAY <= day <= LAST_DAY:
        return None
    return f"{day} is outside the days results can have: {FIRST_DAY} to {LAST_DAY}"


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AssignmentRequest(_Request):
    """``{}`` (or no body): the assignment's network exactly (a 0.1 MW / 0.05 Mvar load)."""


class LoadRequest(_Request):
    """A load of ``p_mw`` [MW] and ``q_mvar`` [Mvar] on the assignment's network."""

    p_mw: float = Field(ge=-MAX_LOAD_MW, le=MAX_LOAD_MW, allow_inf_nan=False, description="active power [MW]")
    q_mvar: float = Field(ge=-MAX_LOAD_MW, le=MAX_LOAD_MW, allow_inf_nan=False, description="reactive power [Mvar]")


class BuildingRequest(_Request):
    """The building of ``meter_id`` with its stored interval at ``timestamp``, on the configured feeder."""

    meter_id: MeterId
    timestamp: AwareDatetime = Field(description="an instant within a stored interval (ISO 8601 with offset)")

    @field_validator("timestamp")
    @classmethod
    def _within_contract(cls, value: dt.datetime) -> dt.datetime:
        if not EARLIEST <= value <= LATEST:
            raise ValueError(f"{value.isoformat()} is outside the instants results can have: "
                             f"{EARLIEST.isoformat()} to {LATEST.isoformat()}")
        return value


class BatteryRequest(_Request, BatteryParameters):
    """A battery in a request: the fields, units and limits of the ``--battery-*`` flags (unknown fields refused)."""


class DayRequest(_Request):
    """The feeder's power flow over a local day of stored live results, with the day's summary.

    ``battery``: give every building a battery of these settings (the names, units and limits of the
    ``--battery-*`` flags), dispatched over its stored intervals from the start of the day; ``pv_kwp``:
    the buildings' PV peak power [kWp], needed by the ``grid-friendly`` strategy (its feed-in limit is
    a share of it).
    """

    feeder: str = Field(min_length=1, max_length=64, description="feeder name (grid.feeders)")
    date: dt.date = Field(description="local day in the site's timezone, YYYY-MM-DD")
    battery: BatteryRequest | None = Field(
        None, description="a battery in every building (battery_kwh, battery_kw, battery_efficiency, ...)")
    pv_kwp: float | None = Field(None, gt=0, le=1000, allow_inf_nan=False,
                                 description="the buildings' PV peak power [kWp] (grid-friendly battery)")

    @model_validator(mode="after")
    def _battery_needs(self) -> DayRequest:
        if self.battery is not None and self.battery.battery_strategy == "grid-friendly" and self.pv_kwp is None:
            raise ValueError("a grid-friendly battery needs pv_kwp, the buildings' PV peak power [kWp] (its feed-in "
                             "limit is a share of it)")
        return self

    @field_validator("feeder")
    @classmethod
    def _known_feeder(cls, value: str) -> str:
        return check_feeder_name(value)

    @field_validator("date")
    @classmethod
    def _within_contract(cls, value: dt.date) -> dt.date:
        problem = day_problem(value)
        if problem:
            raise ValueError(problem)
        return value


MAX_HOSTING_SCENARIOS = 1000
"""Most scenarios one request may ask for (1,000 take 1-40 s on the SimBench feeders)."""


class HostingRequest(_Request):
    """The feeder's stochastic PV hosting capacity (``python -m grid hosting-capacity`` with its default limits)."""

    feeder: str = Field(min_length=1, max_length=64, description="feeder name (grid.feeders)")
    scenarios: int = Field(ge=1, le=MAX_HOSTING_SCENARIOS, description="random PV deployments")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="seed of the deployments (same seed, same result)")

    @field_validator("feeder")
    @classmethod
    def _known_feeder(cls, value: str) -> str:
        return check_feeder_name(value)


SimulationRequest = LoadRequest | BuildingRequest | DayRequest | HostingRequest | AssignmentRequest
"""The five accepted bodies of ``POST /api/simulations``."""

SimulationKind = Literal["assignment", "load", "building", "day", "hosting-capacity"]


class SimulationOut(BaseModel):
    """A stored simulation: the load's P and Q (as in the assignment) and the network's state.

    ``bus_vm_pu`` maps bus name to voltage magnitude [pu]; ``line_loading_percent`` and
    ``trafo_loading_percent`` map element name to loading [%]. ``details`` holds what is
    specific to the kind (a building's feeder state, a day's summary).
    """

    id: int
    launched_at: AwareDatetime
    kind: SimulationKind
    request: dict[str, Any]
    active_power_mw: float
    reactive_power_mvar: float
    grid_p_mw: float | None = None
    grid_q_mvar: float | None = None
    losses_mw: float | None = None
    bus_vm_pu: dict[str, float] = Field(default_factory=dict)
    line_loading_percent: dict[str, float] = Field(default_factory=dict)
    trafo_loading_percent: dict[str, float] = Field(default_factory=dict)
    details: dict[str, Any] = Field(default_factory=dict)


class SimulationPage(BaseModel):
    """A page of simulations, newest first."""

    simulations: list[SimulationOut]
    total: int
    limit: int
    offset: int


class LatestActivePower(BaseModel):
    """The active power of the latest simulation's load [MW]."""

    active_power_mw: float
    simulation_id: int
    launched_at: AwareDatetime


class LatestReactivePower(BaseModel):
    """The reactive power of the latest simulation's load [Mvar]."""

    reactive_power_mvar: float
    simulation_id: int
    launched_at: AwareDatetime


class IntervalOut(BaseModel):
    """One meter's means over one interval [kW] (net = meter − PV + battery, positive drawn from the grid).

    ``import_power_kw`` / ``export_power_kw``: means of net's positive part and of −(its negative
    part) [kW]; their difference is ``net_power_kw`` (null when the producer did not send them).
    ``battery_power_kw``: the battery's mean power [kW], positive while charging; ``battery_soc_kwh``:
    its state of charge at the interval's end [kWh]; both null without a battery. The fields are
    those of :class:`common.schema.IntervalResult` (a test checks they agree).
    """

    meter_id: str
    interval_start: AwareDatetime
    interval_s: int
    readings: int
    meter_power_kw: float
    pv_power_kw: float
    net_power_kw: float
    import_power_kw: float | None = None
    export_power_kw: float | None = None
    battery_power_kw: float | None = None
    battery_soc_kwh: float | None = None


class MeterDay(BaseModel):
    """A meter's stored intervals of a local day, in time order."""

    meter_id: str
    date: dt.date
    timezone: str
    intervals: list[IntervalOut]


class MeterOut(BaseModel):
    """A meter the live feed has reported, with the span of its stored intervals."""

    meter_id: str
    intervals: int
    first_interval_start: AwareDatetime
    last_interval_start: AwareDatetime


class BuildingState(BaseModel):
    """A building on the feeder in one power flow: bus voltage [pu], load P [kW] and Q [kvar]."""

    vm_pu: float
    p_kw: float
    q_kvar: float


class GridResultOut(BaseModel):
    """The feeder's power flow for one interval of every meter's means.

    ``grid_p_kw`` / ``grid_q_kvar``: exchange with the upstream grid (positive drawn from it);
    ``vm_min_pu`` / ``vm_max_pu``: extreme bus voltages; loadings [%]; ``losses_kw``.
    """

    feeder: str
    interval_start: AwareDatetime
    interval_s: int
    meters: int
    grid_p_kw: float
    grid_q_kvar: float
    vm_min_pu: float
    vm_max_pu: float
    trafo_loading_percent: float
    line_loading_max_percent: float
    losses_kw: float
    buildings: dict[str, BuildingState]


class GridDay(BaseModel):
    """The live grid results of a local day, in time order."""

    feeder: str
    date: dt.date
    timezone: str
    results: list[GridResultOut]


class RunOut(BaseModel):
    """A meter's run complete on disk (from the PV simulator's run-complete notice)."""

    run_id: str
    meter_id: str
    meters: list[str]
    readings: int
    interval_s: int
    first_timestamp: AwareDatetime
    last_timestamp: AwareDatetime


class Problem(BaseModel):
    """Every error answer: what is wrong, in one line."""

    detail: str
