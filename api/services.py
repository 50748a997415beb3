"""What the routers share: settings, database, hub, power flows, the live feed. Built once per app."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from api.db.engine import Database
from api.live.consumer import ResultsConsumer
from api.live.grid import LiveGrid
from api.live.hub import Hub
from api.power_flows import PowerFlows
from api.schemas import SimulationOut
from api.settings import ApiSettings
from api.simulations import Simulations


class LatestSimulation:
    """The latest stored simulation, kept in memory: this service is the only writer of simulations.

    Read from the database once (first use), then replaced by every simulation this process
    stores, so ``GET .../latest/...`` costs no database round trip (one process per database).
    """

    def __init__(self) -> None:
        self.value: SimulationOut | None = None
        self.loaded = False

    def offer(self, simulation: SimulationOut) -> None:
        """A simulation was stored (so it is the newest one, ids only grow): keep it."""
        if self.value is None or simulation.id > self.value.id:
            self.value = simulation
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

    @classmethod
    def build(cls, settings: ApiSettings, flows: PowerFlows) -> Services:
        """Wire everything from ``settings`` (no I/O yet: the database is touched at start)."""
        db = Database(settings.resolved_database_url())
        hub = Hub(settings.client_buffer)
        grid = LiveGrid(db, hub, flows, settings.feeder, settings.tz)
        consumer = ResultsConsumer(settings.amqp_url, db, hub, settings.prefetch, on_stored=grid.notify,
                                   stats_interval_s=settings.stats_interval_s)
        return cls(settings=settings, db=db, hub=hub, flows=flows,
                   simulations=Simulations(db, flows, settings.feeder, settings.tz), grid=grid, consumer=consumer,
                   latest=LatestSimulation())


def get_services(connection: HTTPConnection) -> Services:
    """FastAPI dependency: the app's :class:`Services` (HTTP requests and WebSockets alike)."""
    services: Services = connection.app.state.services
    return services


