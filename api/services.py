"""What the routers share: settings, database, hub, power flows, the live feed. Built once per app."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from api.db.engine import Database
from api.live.consumer import ResultsConsumer
from api.live.grid import LiveGrid
from api.live.hub import ClientSlots, Hub
from api.power_flows import PowerFlows
from api.schemas import LatestActivePower, LatestReactivePower, SimulationOut
from api.settings import ApiSettings
from api.simulations import Simulations
from common.topology import results_queue


class LatestSimulation:
    """The latest stored simulation, kept in memory: this service is the only writer of simulations.

    Read from the database once (first use), then replaced by every simulation this process
    stores, so ``GET .../latest/...`` costs no database round trip (one process per database).
    The two small answers of ``GET .../latest/active-power`` and ``.../reactive-power`` are
    encoded once per simulation (:attr:`active_power_json`, :attr:`reactive_power_json`), not
    once per request: they are the service's most frequent requests.
    """

    def __init__(self) -> None:
        self.value: SimulationOut | None = None
        self.active_power_json = b""
        self.reactive_power_json = b""
        self.loaded = False

    def offer(self, simulation: SimulationOut) -> None:
        """A simulation was stored (so it is the newest one, ids only grow): keep it."""
        if self.value is None or simulation.id > self.value.id:
            self.value = simulation
            self.active_power_json = LatestActivePower(
                active_power_mw=simulation.active_power_mw, simulation_id=simulation.id,
                launched_at=simulation.launched_at).model_dump_json().encode()
            self.reactive_power_json = LatestReactivePower(
                reactive_power_mvar=simulation.reactive_power_mvar, simulation_id=simulation.id,
                launched_at=simulation.launched_at).model_dump_json().encode()
        self.loaded = True


@dataclass
class Services:
    """The app's collaborators; ``app.state.services`` holds them (see :func:`get_services`)."""

    settings: ApiSettings
    db: Database
    hub: Hub
    flows: PowerFlows
    simulations: Simulations
    grid: LiveGrid
    consumer: ResultsConsumer
    latest: LatestSimulation
    sockets: ClientSlots
    allowed_origins: list[str]

    @classmethod
    def build(cls, settings: ApiSettings, flows: PowerFlows) -> Services:
        """Wire everything from ``settings`` (no I/O yet: the database is touched at start)."""
        db = Database(settings.resolved_database_url())
        hub = Hub(settings.client_buffer)
        grid = LiveGrid(db, hub, flows, settings.feeder, settings.tz)
        queue = results_queue(settings.results_queue_name(), settings.results_queue_expires_s)
        consumer = ResultsConsumer(settings.amqp_url, db, hub, queue, settings.prefetch, on_stored=grid.notify,
                                   stats_interval_s=settings.stats_interval_s)
        return cls(settings=settings, db=db, hub=hub, flows=flows,
                   simulations=Simulations(db, flows, settings.feeder, settings.tz), grid=grid, consumer=consumer,
                   latest=LatestSimulation(), sockets=ClientSlots(settings.max_websocket_clients),
                   allowed_origins=settings.origin_list())


async def get_services(connection: HTTPConnection) -> Services:
    """FastAPI dependency: the app's :class:`Services` (HTTP requests and WebSockets alike).

    ``async`` so that FastAPI calls it on the event loop: a plain ``def`` dependency is run in
    the thread pool, a hop to a worker thread and back on every request.
    """
    services: Services = connection.app.state.services
    return services


