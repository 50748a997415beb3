"""Fixtures of the web service's tests: a database per test (SQLite file, or its own PostgreSQL database)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from api.app import create_app
from api.settings import ApiSettings
from tests.api.fakes import FakePowerFlows

POSTGRES_URL = os.environ.get("PVSIM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _admin(url: str, statement: str) -> None:
    parsed = make_url(url)
    with psycopg.connect(host=parsed.host, port=parsed.port or 5432, user=parsed.username,
                         password=parsed.password, dbname="postgres", autocommit=True) as connection:
        connection.execute(statement)  # type: ignore[arg-type]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh database on the shared PostgreSQL, dropped afterwards."""
    name = f"pvsim_test_{uuid.uuid4().hex[:12]}"
    _admin(POSTGRES_URL, f'CREATE DATABASE "{name}"')
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    _admin(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that uses it runs on a SQLite file and on its own PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'api.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def settings_for(database_url: str, tmp_path: Path, **overrides: Any) -> ApiSettings:
    """Settings of a test's service: its database, its output dir, nothing from the environment."""
    values: dict[str, Any] = {"database_url": database_url, "output_dir": tmp_path, "timezone": "Europe/Berlin",
                              "api_token": None, "feeder": "seed", "stats_interval_s": 0.5,
                              "allowed_hosts": "testserver,localhost,127.0.0.1"}  # testserver: TestClient's
    values.update(overrides)
    return ApiSettings(**values)


@pytest.fixture
def fake_flows() -> FakePowerFlows:
    return FakePowerFlows()


@pytest.fixture
def make_client(database_url: str, tmp_path: Path,
                fake_flows: FakePowerFlows) -> Iterator[Callable[..., TestClient]]:
    """``make_client(**settings)``: an in-process client of the service (fake power flows, no broker)."""
    clients: list[TestClient] = []

    def make(flows: Any = None, live: bool = False, **overrides: Any) -> TestClient:
        app: FastAPI = create_app(settings_for(database_url, tmp_path, **overrides), flows or fake_flows, live=live)
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """A client of a service with fake power flows and no broker."""
    return make_client()
