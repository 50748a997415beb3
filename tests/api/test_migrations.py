"""Alembic migrations create exactly the models' schema, on SQLite and PostgreSQL, and go back down."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from api.db.engine import MIGRATIONS, Database, migrate
from api.db.models import Base
from common.settings import CommonSettings


def test_migrations_match_the_models_and_are_idempotent_and_reversible(database_url: str) -> None:
    db = Database(database_url)
    try:
        migrate(db.engine)
        migrate(db.engine)  # a second start changes nothing
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            assert context.get_current_revision() == "0002"
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    finally:
        db.dispose()


def test_a_start_logs_the_migrations_it_runs_without_alembics_chatter(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    CommonSettings().configure_logging()
    db = Database(f"sqlite:///{tmp_path / 'api.sqlite3'}")
    try:
        migrate(db.engine)
    finally:
        db.dispose()
    error = capsys.readouterr().err
    assert "Running upgrade  -> 0001" in error
    assert "Context impl" not in error and "Will assume" not in error and "setup plugin" not in error, error
