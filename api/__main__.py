"""``python -m api``: serve the web service with uvicorn."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from api.settings import ApiSettings
from common.cli import parse_settings, require_modules
from grid import REQUIRED_MODULES as GRID_MODULES

log = logging.getLogger("api")

DESCRIPTION = (
    "Serve pvsim's web service: power-flow simulations (POST /api/simulations), live results of the PV "
    "simulator and the feeder's live grid, over REST (/docs), GraphQL (/graphql) and WebSockets "
    "(/ws/simulations, /ws/live), kept in a database (SQLite or PostgreSQL). `python -m api import --help`: "
    "load day CSVs already on disk (batch mode, an earlier run) into that database."
)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (2: bad settings, or a database or user that
    does not exist; 1: database unreachable at start)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["import"]:
        from api.importer import main as import_main

        return import_main(arguments[1:])
    settings = parse_settings(ApiSettings, arguments, "api", DESCRIPTION)
    require_modules("api", ("fastapi", "uvicorn", "httptools", "strawberry", "sqlalchemy", "alembic", "aio_pika",
                            *GRID_MODULES), "requirements-api.txt")
    from api.server import ServingServer, uvicorn_config
    from grid.feeders import available_feeders

    if settings.feeder not in available_feeders():
        print(f"api: error: --feeder / PVSIM_FEEDER: unknown feeder '{settings.feeder}' "
              f"(available: {', '.join(available_feeders())})", file=sys.stderr)
        return 2
    settings.configure_logging()
    from api.app import create_app
    from api.db.engine import DatabaseRefused, DatabaseUnavailable, make_engine, migrate_with_retry

    engine = make_engine(settings.resolved_database_url())
    try:  # before uvicorn, whose failed start-up is a traceback and exit code 3
        migrate_with_retry(engine, settings.database_timeout_s)
    except DatabaseRefused as error:  # no such database or user: waiting does not help
        print(f"api: error: {error}", file=sys.stderr)
        return 2
    except DatabaseUnavailable as error:
        log.error("%s; check --database-url / PVSIM_DATABASE_URL and that the database is up", error)
        return 1
    finally:
        engine.dispose()

    app = create_app(settings, freeze_gc=True)
    server = ServingServer(uvicorn_config(app, settings), f"feeder {settings.feeder}, token "
                           f"{'required for mutations' if settings.token() else 'not set'}")
    server.run()
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
