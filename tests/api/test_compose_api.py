"""The compose file's web service and database, and Dockerfile.api, checked without a Docker engine."""

from __future__ import annotations

import os

import pytest
import yaml
from sqlalchemy.engine import make_url

from api.settings import ApiSettings
from common.cli import env_name
from tests.test_compose import (
    COMPOSE_FILE,
    PROJECT_SOURCES,
    ROOT,
    copy_sources,
    dockerfile,
    dockerignored,
    top_level_packages,
    with_defaults,
)


def compose() -> dict:
    loaded: dict = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def test_api_is_published_on_loopback_only_after_a_healthy_broker_and_database() -> None:
    api = compose()["services"]["api"]
    # Loopback only; the host port defaults to 8000 and PVSIM_API_HOST_PORT moves it when 8000 is taken.
    assert [with_defaults(port) for port in api["ports"]] == ["127.0.0.1:8000:8000"]
    assert api["ports"] == ["127.0.0.1:${PVSIM_API_HOST_PORT:-8000}:8000"]
    assert api["depends_on"] == {"rabbitmq": {"condition": "service_healthy"},
                                 "postgres": {"condition": "service_healthy"}}
    assert "/api/health" in " ".join(api["healthcheck"]["test"])
    assert api["build"]["dockerfile"] == "Dockerfile.api"


def test_postgres_is_the_official_image_with_a_healthcheck_and_a_named_volume() -> None:
    file = compose()
    postgres = file["services"]["postgres"]
    assert postgres["image"] == "postgres:16-bookworm"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert {"interval", "timeout", "retries", "start_period"} <= set(postgres["healthcheck"])
    volume, _, target = postgres["volumes"][0].partition(":")
    assert volume in file["volumes"] and target == "/var/lib/postgresql/data"


def test_api_environment_names_real_settings_and_reaches_both_services(monkeypatch: pytest.MonkeyPatch) -> None:
    env = compose()["services"]["api"]["environment"]
    known = {env_name(ApiSettings, name) for name in ApiSettings.model_fields}
    assert set(env) <= known, sorted(set(env) - known)
    for key in list(os.environ):
        if key.startswith("PVSIM_") or key == "AMQP_URL":
            monkeypatch.delenv(key)
    for key, value in env.items():
        resolved = with_defaults(value)
        if resolved:
            monkeypatch.setenv(key, resolved)
    settings = ApiSettings()  # type: ignore[call-arg]
    url = make_url(settings.resolved_database_url())
    assert (url.drivername, url.host, url.database) == ("postgresql+psycopg", "postgres", "pvsim")
    assert settings.amqp_url.startswith("amqp://guest:guest@rabbitmq:5672/")
    assert settings.token() is None  # an empty PVSIM_API_TOKEN means no token


def test_dockerfile_api_copies_its_lock_and_the_project() -> None:
    instructions = dockerfile(ROOT / "Dockerfile.api")
    sources = sorted(s.rstrip("/") for s in copy_sources(instructions))
    assert sources == sorted(["requirements-api.lock", "requirements-build.lock", *PROJECT_SOURCES,
                              *top_level_packages()])
    users = [i.args for i in instructions if i.keyword.upper() == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    for path in ("requirements-api.lock", "grid/snapshot.py", "api/__main__.py",
                 "api/migrations/versions/0001_initial.py"):
        assert not dockerignored(path, patterns), f"{path} is needed by Dockerfile.api but ignored"
