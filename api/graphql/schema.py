"""The GraphQL schema: types generated from :mod:`api.schemas`; resolvers reuse the REST layer's queries.

Queries ``simulations``, ``simulation(id)``, ``latestSimulation``, ``meters``, ``intervals``,
``gridResults``; mutation ``runSimulation`` (bearer token when the service has one);
subscriptions ``simulations``, ``intervals``, ``gridResults`` (graphql-transport-ws) that
first yield the current value, then every new one. Queries deeper than
``--graphql-max-depth`` are refused (Strawberry's ``QueryDepthLimiter``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from fastapi import Depends
from fastapi.concurrency import run_in_threadpool
from graphql import GraphQLError
from pydantic import AwareDatetime, TypeAdapter, ValidationError
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection
from strawberry.experimental.pydantic import input as pydantic_input
from strawberry.experimental.pydantic import type as pydantic_type
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.fastapi import GraphQLRouter
from strawberry.permission import BasePermission
from strawberry.scalars import JSON
from strawberry.schema.config import StrawberryConfig
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types import Info

from api.db import queries
from api.db.engine import DatabaseUnavailable
from api.errors import describe_validation
from api.graphql.guards import MaskUnexpected, RequestLimits
from api.live.hub import OVERFLOW
from api.rest.meters import check_day
from api.rest.simulations import Request, launch
from api.schemas import BatteryRequest, BuildingState, GridResultOut, IntervalOut, MeterOut, SimulationOut
from api.security import token_ok
from api.services import Services, get_services
from api.simulations import day_window, simulation_out


class FellBehind(RuntimeError):
    """A subscriber further behind than ``--client-buffer`` messages: it should subscribe again."""

    def __init__(self) -> None:
        super().__init__("subscriber fell too far behind; subscribe again")


# The object types are generated from the REST models (api.schemas), so both APIs have one
# definition of each shape; a class body lists only the fields whose GraphQL type differs.
@pydantic_type(model=SimulationOut, all_fields=True,
               description="A stored power-flow simulation: the load's P [MW] and Q [Mvar] and the network state.")
class Simulation:
    kind: str
    request: JSON
    bus_vm_pu: JSON
    line_loading_percent: JSON
    trafo_loading_percent: JSON
    details: JSON


@pydantic_type(model=IntervalOut, all_fields=True,
               description="One meter's means over one interval [kW]; net = meter - PV, positive drawn from grid.")
class Interval:
    pass


@pydantic_type(model=MeterOut, all_fields=True,
               description="A meter of the live feed and the span of its stored intervals.")
class Meter:
    pass


@pydantic_type(model=BuildingState, all_fields=True,
               description="A building in one power flow: bus voltage [pu], load P [kW] and Q [kvar].")
class Building:
    meter_id: str  # REST keys the buildings by meter id; GraphQL lists them


@pydantic_type(model=GridResultOut, all_fields=True,
               description="The feeder's power flow for one interval: grid exchange [kW]/[kvar], voltages [pu], "
                           "loadings [%], losses [kW], and each building.")
class GridResult:
    buildings: list[Building]


def grid_result(out: GridResultOut) -> GridResult:
    """The GraphQL shape of ``out``: its buildings as a list instead of a map by meter id."""
    buildings = [Building(meter_id=meter_id, **state.model_dump()) for meter_id, state in out.buildings.items()]
    return GridResult(**out.model_dump(exclude={"buildings"}), buildings=buildings)


def _services(info: Info) -> Services:
    services: Services = info.context["services"]
    return services


async def _db(info: Info, work: Any) -> Any:
    return await run_in_threadpool(_services(info).db.run, work)


@strawberry.type
class Query:
    @strawberry.field(description="Stored simulations, newest first.")
    async def simulations(self, info: Info, limit: int = 50, offset: int = 0) -> list[Simulation]:
        if not (1 <= limit <= 500 and offset >= 0):
            raise ValueError("limit must be 1..500 and offset >= 0")
        rows, _total = await _db(info, lambda s: queries.list_simulations(s, limit, offset))
        return [Simulation.from_pydantic(simulation_out(row)) for row in rows]

    @strawberry.field(description="One stored simulation, or null.")
    async def simulation(self, info: Info, id: int) -> Simulation | None:
        def fetch(session: Session) -> SimulationOut | None:
            found = queries.get_simulation(session, id) if 1 <= id <= 2**62 else None
            return simulation_out(found) if found else None

        out = await _db(info, fetch)
        return Simulation.from_pydantic(out) if out else None

    @strawberry.field(description="The latest simulation, or null before the first.")
    async def latest_simulation(self, info: Info) -> Simulation | None:
        out = await _db(info, _latest)
        return Simulation.from_pydantic(out) if out else None

    @strawberry.field(description="Meters with stored live intervals.")
    async def meters(self, info: Info) -> list[Meter]:
        rows = await _db(info, queries.meters)
        return [Meter(meter_id=m, intervals=n, first_interval_start=a, last_interval_start=b) for m, n, a, b in rows]

    @strawberry.field(description="A meter's stored intervals of a local day (site timezone), in time order.")
    async def intervals(self, info: Info, meter_id: str, date: dt.date) -> list[Interval]:
        start, end = day_window(check_day(date), _services(info).settings.tz)
        rows = await _db(info, lambda s: [IntervalOut.model_validate(r, from_attributes=True)
                                          for r in queries.intervals_between(s, start, end, meter_id)])
        return [Interval.from_pydantic(row) for row in rows]

    @strawberry.field(description="The live grid results of a local day, in time order.")
    async def grid_results(self, info: Info, date: dt.date, feeder: str | None = None) -> list[GridResult]:
        name = feeder or _services(info).settings.feeder
        start, end = day_window(check_day(date), _services(info).settings.tz)
        rows = await _db(info, lambda s: [GridResultOut.model_validate(r, from_attributes=True)
                                          for r in queries.grid_results_between(s, name, start, end)])
        return [grid_result(row) for row in rows]


def _latest(session: Session) -> SimulationOut | None:
    found = queries.latest_simulation(session)
    return simulation_out(found) if found else None


class HasToken(BasePermission):
    """The bearer token of ``PVSIM_API_TOKEN`` (when set) in the ``Authorization`` header."""

    message = "a valid bearer token is required (Authorization: Bearer …)"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        connection: HTTPConnection = info.context["request"]
        return token_ok(_services(info).settings.token(), connection.headers.get("authorization"))


_REQUEST = TypeAdapter(Request)


@pydantic_input(model=BatteryRequest, all_fields=True,
                description="A battery in every building (the --battery-* settings: [kWh], [kW], [1], [%], [h]).")
class BatteryInput:
    pass


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=[HasToken],
                         description="Run and store a power flow. No arguments: the assignment's network; "
                                     "pMw+qMvar: that load; meterId+timestamp: a stored building interval on "
                                     "the feeder; feeder+date: a day of stored live results; feeder+scenarios"
                                     " (+seed): the feeder's stochastic PV hosting capacity. A day may add "
                                     "battery (and pvKwp, the buildings' PV peak power, for grid-friendly).")
    async def run_simulation(self, info: Info, p_mw: float | None = None, q_mvar: float | None = None,
                             meter_id: str | None = None, timestamp: dt.datetime | None = None,
                             feeder: str | None = None, date: dt.date | None = None, scenarios: int | None = None,
                             seed: int | None = None, battery: BatteryInput | None = None,
                             pv_kwp: float | None = None) -> Simulation:
        given = {"p_mw": p_mw, "q_mvar": q_mvar, "meter_id": meter_id, "timestamp": timestamp, "feeder": feeder,
                 "date": date, "scenarios": scenarios, "seed": seed, "pv_kwp": pv_kwp,
                 "battery": None if battery is None else strawberry.asdict(battery)}  # validated below, once
        try:
            request = _REQUEST.validate_python({k: v for k, v in given.items() if v is not None})
        except ValidationError as error:
            raise ValueError(describe_validation(error.errors())) from None
        services = _services(info)
        return Simulation.from_pydantic(await launch(services, request))


@strawberry.type
class Subscription:
    @strawberry.subscription(description="The latest simulation (or null) first, then each new one.")
    async def simulations(self, info: Info) -> AsyncGenerator[Simulation | None, None]:
        services = _services(info)
        with services.hub.subscribe(["simulation"]) as subscription:
            current = await _db(info, _latest)
            seen = current.id if current else 0
            yield Simulation.from_pydantic(current) if current else None
            while (message := await subscription.next()) is not OVERFLOW:
                if message.payload["id"] > seen:
                    yield Simulation.from_pydantic(SimulationOut.model_validate(message.payload))
            raise FellBehind()

    @strawberry.subscription(description="Each meter's latest interval first, then every interval as it is stored.")
    async def intervals(self, info: Info, meter_id: str | None = None) -> AsyncGenerator[Interval, None]:
        services = _services(info)
        with services.hub.subscribe(["interval"]) as subscription:
            current = await _db(info, lambda s: [IntervalOut.model_validate(r, from_attributes=True)
                                                 for r in queries.latest_intervals(s)])
            for row in current:
                if meter_id is None or row.meter_id == meter_id:
                    yield Interval.from_pydantic(row)
            while (message := await subscription.next()) is not OVERFLOW:
                if meter_id is None or message.payload["meter_id"] == meter_id:
                    yield Interval.from_pydantic(IntervalOut.model_validate(message.payload))
            raise FellBehind()

    @strawberry.subscription(description="The latest live grid result first (if any), then each new one.")
    async def grid_results(self, info: Info) -> AsyncGenerator[GridResult, None]:
        services = _services(info)
        feeder = services.settings.feeder
        with services.hub.subscribe(["grid"]) as subscription:
            current = await _db(info, lambda s: (lambda r: GridResultOut.model_validate(r, from_attributes=True)
                                                 if r else None)(queries.latest_grid_result(s, feeder)))
            if current is not None:
                yield grid_result(current)
            while (message := await subscription.next()) is not OVERFLOW:
                yield grid_result(GridResultOut.model_validate(message.payload))
            raise FellBehind()


async def _context(services: Services = Depends(get_services)) -> dict[str, Any]:  # noqa: B008
    return {"services": services}


UTC_DATETIME = strawberry.scalar(
    name="DateTime", description="ISO 8601 instant; sent in UTC with Z",
    serialize=lambda value: value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
    parse_value=lambda value: dt.datetime.fromisoformat(value),
)

EXPECTED_ERRORS = (ValueError, LookupError, PermissionError, DatabaseUnavailable, FellBehind, GraphQLError)
"""Errors that answer bad input (sent to the client, not logged with a stack trace); ``GraphQLError``:
Strawberry's own, such as a refused permission."""

MAX_TOKENS = 2000
"""Most tokens in one GraphQL document (Strawberry's ``MaxTokensLimiter``)."""


class _Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Nothing: bad input is the client's to read, unexpected errors are logged by :class:`MaskUnexpected`."""


def graphql_router(max_depth: int, max_aliases: int = 20, max_cost: int = 5000,
                   allowed_origins: list[str] | None = None) -> GraphQLRouter[Any, Any]:
    """The ``/graphql`` router (GraphiQL in a browser, graphql-transport-ws subscriptions).

    A request deeper than ``max_depth``, with more than ``max_aliases`` aliases, an estimated
    cost over ``max_cost`` (:func:`api.graphql.guards.query_cost`) or more than one mutation
    field is refused with an error naming the limit. WebSocket handshakes from pages on other
    origins than the service's own and ``allowed_origins`` are refused (Strawberry's check).
    """
    schema = _Schema(
        query=Query, mutation=Mutation, subscription=Subscription,
        extensions=[lambda: QueryDepthLimiter(max_depth=max_depth),
                    lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
                    lambda: MaxAliasesLimiter(max_alias_count=max_aliases), lambda: RequestLimits(max_cost),
                    lambda: MaskUnexpected(EXPECTED_ERRORS)],
        config=StrawberryConfig(scalar_map={dt.datetime: UTC_DATETIME, AwareDatetime: UTC_DATETIME}),
    )
    return GraphQLRouter(schema, context_getter=_context, allowed_origins=allowed_origins or (),
                         subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL])
