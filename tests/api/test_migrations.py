"""Alembic migrations create exactly the models' schema, on SQLite and PostgreSQL, and go back down."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

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
            assert context.get_current_revision() == "0003"
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    finally:
        db.dispose()


def _alembic(db: Database, step: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, step)(config, revision)


def test_the_battery_migration_keeps_stored_intervals_with_null_battery_fields_and_goes_back(
        database_url: str) -> None:
    db = Database(database_url)
    try:
        _alembic(db, "upgrade", "0002")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO intervals (meter_id, interval_start, interval_s, readings, meter_power_kw, pv_power_kw, "
                "net_power_kw, import_power_kw, export_power_kw, updated_at) VALUES ('meter-1', "
                "'2026-06-21 12:00:00', 60, 60, 2.0, 3.0, -1.0, 0.0, 1.0, '2026-06-21 12:01:00')"))
        _alembic(db, "upgrade", "0003")
        with db.engine.connect() as connection:
            row = connection.execute(text(
                "SELECT net_power_kw, battery_power_kw, battery_soc_kwh FROM intervals")).one()
        assert tuple(row) == (-1.0, None, None)
        _alembic(db, "downgrade", "0002")
        columns = {column["name"] for column in inspect(db.engine).get_columns("intervals")}
        assert "battery_power_kw" not in columns and "battery_soc_kwh" not in columns
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM intervals")).scalar() == 1
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
