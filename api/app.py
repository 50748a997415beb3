"""The FastAPI application: :func:`create_app` wires settings, database, live feed and routers.

Other parts of pvsim (the dashboard) add their routers to the returned app with
``app.include_router(...)``; ``app.state.services`` (:class:`api.services.Services`) gives
them the database and the live hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from starlette.middleware.trustedhost import TrustedHostMiddleware

from api import errors
from api.dashboard import router as dashboard_router
from api.db.engine import migrate_with_retry
from api.graphql.schema import graphql_router
from api.live.websocket import router as websocket_router
from api.power_flows import GridPowerFlows, PowerFlows
from api.rest.grid import router as grid_router
from api.rest.health import router as health_router
from api.rest.meters import router as meters_router
from api.rest.simulations import router as simulations_router
from api.security import BodySizeLimit
from api.services import Services
from api.settings import ApiSettings

log = logging.getLogger(__name__)

DESCRIPTION = """Power-flow simulations (pandapower, through pvsim's `grid` package) and pvsim's live results.

- REST under `/api` (this page), GraphQL at `/graphql`, WebSockets at `/ws/simulations` and `/ws/live`.
- Every mutation needs `Content-Type: application/json`, and `Authorization: Bearer <PVSIM_API_TOKEN>` when
  the service has a token.
- Errors are `{"detail": "..."}`: 4xx for bad input, 503 while the database is unreachable.
"""


def create_app(settings: ApiSettings | None = None, flows: PowerFlows | None = None, *, live: bool = True,
               freeze_gc: bool = False) -> FastAPI:
    """The web service for ``settings`` (default: from the environment).

    ``flows`` replaces the ``grid``-backed power flows (tests of the plumbing); ``live=False``
    leaves out the results consumer and the live grid (no broker needed). At start the
    database is migrated (retried for ``database_timeout_s``), the assignment's network is
    built once, and the live feed starts in the background. ``freeze_gc`` (``python -m api``;
    not for processes that build many apps, such as tests): after that start, every object
    so far is moved out of the garbage collector's reach (:func:`gc.freeze`).
    """
    settings = settings or ApiSettings()  # type: ignore[call-arg]  # fields come from the environment
    services = Services.build(settings, flows or GridPowerFlows())

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(migrate_with_retry, services.db.engine, settings.database_timeout_s)
        log.info("database %s ready", services.db.engine.url.render_as_string(hide_password=True))
        await run_in_threadpool(services.flows.warm_up, settings.feeder)
        log.info("power flows ready (feeder %s)", settings.feeder)
        if freeze_gc:
            # pandas, pandapower, SQLAlchemy and the warm network leave ~350,000 long-lived
            # objects; a full collection walks them all (0.15-0.5 s on this project's machine),
            # stalling every request and live push meanwhile. Frozen, they are never scanned again.
            gc.collect()
            gc.freeze()
        tasks: list[asyncio.Task[None]] = []
        if live:
            tasks = [asyncio.create_task(services.consumer.run(), name="results consumer"),
                     asyncio.create_task(services.grid.run(), name="live grid")]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            services.db.dispose()

    app = FastAPI(title="pvsim web service", version="1.0.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.services = services
    errors.install(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.host_list(), www_redirect=False)  # outermost
    for router in (simulations_router, meters_router, grid_router, health_router, websocket_router,
                   dashboard_router):
        app.include_router(router)
    app.include_router(graphql_router(settings.graphql_max_depth, settings.graphql_max_aliases,
                                      settings.graphql_max_cost, settings.origin_list()),
                       prefix="/graphql", include_in_schema=False)
    return app
