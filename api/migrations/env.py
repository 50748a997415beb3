"""Alembic environment: migrations run on the connection the service passes in (``api.db.engine.migrate``).

From the command line (``alembic -c pyproject.toml ...``, see ``[tool.alembic]``), the URL comes
from ``PVSIM_DATABASE_URL`` or the default SQLite file, like the service's.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from api.db.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run on the caller's connection, or on a fresh engine built from the service's settings."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from api.db.engine import make_engine
    from api.settings import ApiSettings

    engine = make_engine(ApiSettings().resolved_database_url())  # type: ignore[call-arg]
    with engine.begin() as fresh:
        _run(fresh)


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
run_migrations_online()
