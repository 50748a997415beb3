"""``/api/simulations``: launch a power flow (POST), read the latest P and Q, list and fetch stored runs."""

from __future__ import annotations

import asyncio
import base64
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import Discriminator, Tag
from sqlalchemy.orm import Session

from api.db import queries
from api.live.hub import LiveMessage
from api.schemas import (
    AssignmentRequest,
    BuildingRequest,
    DayRequest,
    HostingRequest,
    LatestActivePower,
    LatestReactivePower,
    LoadRequest,
    Problem,
    SimulationOut,
    SimulationPage,
)
from api.security import require_json, require_token
from api.services import LatestSimulation, Services, get_services
from api.simulations import FIGURE_KEY, NotFound, simulation_out

router = APIRouter(prefix="/api/simulations", tags=["simulations"])

FORMS = "{} (the assignment), {p_mw, q_mvar}, {meter_id, timestamp}, {feeder, date} or {feeder, scenarios[, seed]}"


_FORM_OF_MODEL: dict[type, str] = {AssignmentRequest: "assignment", LoadRequest: "load", BuildingRequest: "building",
                  DayRequest: "day", HostingRequest: "hosting-capacity"}


def _form(body: Any) -> str | None:
    """Which request form ``body`` (JSON object or model) is, by its keys (``None``: no form fits)."""
    if not isinstance(body, dict):
        return _FORM_OF_MODEL.get(type(body))
    keys = set(body)
    if not keys:
        return "assignment"
    for form, fields in (("load", {"p_mw", "q_mvar"}), ("building", {"meter_id", "timestamp"}),
                         ("hosting-capacity", {"scenarios", "seed"}), ("day", {"feeder", "date"})):
        if keys & fields:
            return form
    return None


Request = Annotated[
    Annotated[AssignmentRequest, Tag("assignment")]
    | Annotated[LoadRequest, Tag("load")]
    | Annotated[BuildingRequest, Tag("building")]
    | Annotated[DayRequest, Tag("day")]
    | Annotated[HostingRequest, Tag("hosting-capacity")],
    Discriminator(_form, custom_error_type="simulation_form",
                  custom_error_message=f"the body must be one of {FORMS}"),
]

NOT_FOUND: dict[int | str, dict[str, Any]] = {status.HTTP_404_NOT_FOUND: {"model": Problem}}


async def launch(services: Services, request: Any) -> SimulationOut:
    """Run ``request`` in a worker thread, pushing its progress (type ``progress``) and then the stored simulation."""
    loop = asyncio.get_running_loop()
    form = _form(request) or "assignment"
    described = request.model_dump(mode="json") if request is not None else {}

    def progress(done: int, total: int) -> None:
        message = LiveMessage.of("progress", {"kind": form, "request": described, "done": done, "total": total})
        loop.call_soon_threadsafe(services.hub.publish, message)

    simulation = await run_in_threadpool(services.simulations.launch, request, progress)
    publish(services, simulation)
    return simulation


def publish(services: Services, simulation: SimulationOut) -> None:
    """Push a stored simulation to live clients (``/ws/simulations``, ``/ws/live``, subscriptions)."""
    services.latest.offer(simulation)
    services.hub.publish(LiveMessage.of("simulation", simulation.model_dump(mode="json")))


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=SimulationOut,
    dependencies=[Depends(require_token), Depends(require_json)],
    responses={status.HTTP_401_UNAUTHORIZED: {"model": Problem}, status.HTTP_404_NOT_FOUND: {"model": Problem},
               status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: {"model": Problem},
               status.HTTP_422_UNPROCESSABLE_CONTENT: {"model": Problem},
               status.HTTP_503_SERVICE_UNAVAILABLE: {"model": Problem}},
)
async def launch_simulation(
    body: Annotated[Request | None, Body(description=f"one of {FORMS} (Content-Type: application/json); "
                                               "an empty body = {}")] = None,
    services: Services = Depends(get_services),  # noqa: B008
) -> SimulationOut:
    """Run a power flow and store it: 201 with the load's P [MW] and Q [Mvar], bus voltages and loadings.

    Needs ``Content-Type: application/json`` (415 otherwise), so that a page on another site
    cannot launch one without a CORS preflight.

    - ``{}`` (or an empty body): the assignment's network (a 0.1 MW / 0.05 Mvar load);
    - ``{"p_mw", "q_mvar"}``: that load on the same network;
    - ``{"meter_id", "timestamp"}``: that building's stored interval at that instant on the configured feeder;
    - ``{"feeder", "date"}``: the day's time series from stored live results, with its summary;
    - ``{"feeder", "scenarios"[, "seed"]}``: the feeder's stochastic PV hosting capacity (``details``: the
      summary of ``python -m grid hosting-capacity``; ``bus_vm_pu``: the median scenario at its capacity).
    """
    return await launch(services, body)


def _latest_or_none(session: Session) -> SimulationOut | None:
    found = queries.latest_simulation(session)
    return simulation_out(found) if found else None


async def _latest(services: Services) -> LatestSimulation:
    """The in-memory latest simulation, read from the database on first use; :class:`NotFound` before any."""
    if not services.latest.loaded:
        found = await run_in_threadpool(services.db.run, _latest_or_none)
        if found is not None:
            services.latest.offer(found)
        services.latest.loaded = True
    if services.latest.value is None:
        raise NotFound("no simulation yet: POST /api/simulations launches one")
    return services.latest


# The two latest-value routes answer with bytes encoded once per simulation (LatestSimulation):
# no per-request validation and encoding; response_model still documents the shape.
@router.get("/latest/active-power", response_model=LatestActivePower, responses=NOT_FOUND)
async def latest_active_power(services: Services = Depends(get_services)) -> Response:  # noqa: B008
    """Active power [MW] of the latest simulation's load."""
    return Response((await _latest(services)).active_power_json, media_type="application/json")


@router.get("/latest/reactive-power", response_model=LatestReactivePower, responses=NOT_FOUND)
async def latest_reactive_power(services: Services = Depends(get_services)) -> Response:  # noqa: B008
    """Reactive power [Mvar] of the latest simulation's load."""
    return Response((await _latest(services)).reactive_power_json, media_type="application/json")


@router.get("/latest", response_model=SimulationOut, responses=NOT_FOUND)
async def latest_simulation(services: Services = Depends(get_services)) -> SimulationOut:  # noqa: B008
    """The latest simulation."""
    latest = (await _latest(services)).value
    assert latest is not None  # _latest raised NotFound otherwise
    return latest


@router.get("", response_model=SimulationPage)
def list_simulations(
    limit: Annotated[int, Query(ge=1, le=500, description="simulations per page")] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000, description="simulations to skip")] = 0,
    services: Services = Depends(get_services),  # noqa: B008
) -> SimulationPage:
    """Stored simulations, newest first."""
    rows, total = services.db.run(lambda session: queries.list_simulations(session, limit, offset))
    return SimulationPage(simulations=[simulation_out(row) for row in rows], total=total, limit=limit, offset=offset)


@router.get("/{simulation_id}", response_model=SimulationOut, responses=NOT_FOUND)
def get_simulation(
    simulation_id: Annotated[int, Path(ge=1, le=2**62)],
    services: Services = Depends(get_services),  # noqa: B008
) -> SimulationOut:
    """One stored simulation."""
    def fetch(session: Session) -> SimulationOut | None:
        found = queries.get_simulation(session, simulation_id)
        return simulation_out(found) if found else None

    row = services.db.run(fetch)
    if row is None:
        raise NotFound(f"no simulation {simulation_id}")
    return row


@router.get("/{simulation_id}/figure.png", response_class=Response, responses={
    **NOT_FOUND, status.HTTP_200_OK: {"content": {"image/png": {}}, "description": "the figure"}})
def simulation_figure(
    simulation_id: Annotated[int, Path(ge=1, le=2**62)],
    services: Services = Depends(get_services),  # noqa: B008
) -> Response:
    """The figure of a simulation that has one (``hosting-capacity``: distribution, binding constraints, map)."""
    def fetch(session: Session) -> str | None:
        found = queries.get_simulation(session, simulation_id)
        return found.result.get(FIGURE_KEY) if found else None

    encoded = services.db.run(fetch)
    if not encoded:
        raise NotFound(f"simulation {simulation_id} does not exist or has no figure")
    return Response(base64.b64decode(encoded), media_type="image/png",
                    headers={"Cache-Control": "public, max-age=86400, immutable"})
