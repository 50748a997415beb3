"""Settings of the web service (flags, ``PVSIM_*`` environment variables and ``AMQP_URL``)."""

from __future__ import annotations

import re
import socket
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator

from common.settings import BrokerSettings, CommonSettings

SQLITE_FILE = "api.sqlite3"
"""Name of the default database file in the output directory."""


class DatabaseSettings(CommonSettings):
    """Where the web service keeps its data (``python -m api`` and ``python -m api import``)."""

    output_dir: Path = Field(Path("output"), description="the pipeline's output directory (holds the default database)")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the database, e.g. postgresql+psycopg://user:pass@host/db "
        f"(default: sqlite:///<output-dir>/{SQLITE_FILE})",
    )
    database_timeout_s: float = Field(
        60.0, gt=0, description="how long to retry an unreachable database at start before giving up [s]"
    )

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(f"'{value}' is not a database URL (sqlite:///file or postgresql+psycopg://...)") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database '{url.get_backend_name()}' (use sqlite or postgresql+psycopg)")
        return value

    def resolved_database_url(self) -> str:
        """The database URL: ``database_url``, or a SQLite file in ``output_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.output_dir / SQLITE_FILE).resolve()}"


class ApiSettings(BrokerSettings, DatabaseSettings):
    """Everything ``python -m api`` needs; see ``python -m api --help``.

    Raises
    ------
    pydantic.ValidationError
        If a value is malformed (the CLI turns it into one line and exit code 2).
    """

    host: str = Field(
        "127.0.0.1",
        validation_alias=AliasChoices("PVSIM_API_HOST"),
        description="address to listen on (0.0.0.0 for every interface, e.g. in a container)",
    )
    port: int = Field(
        8000, ge=1, le=65535, validation_alias=AliasChoices("PVSIM_API_PORT"), description="TCP port"
    )
    feeder: str = Field("seed", description="feeder of the live grid and of building simulations (grid.feeders)")
    api_token: SecretStr | None = Field(
        None, description="bearer token required by every mutation (POST, GraphQL mutation); unset: none required "
        "(visible in ps as a flag: prefer --api-token-file)"
    )
    api_token_file: Path | None = Field(
        None, description="file holding the bearer token (its first line), instead of --api-token"
    )
    allowed_hosts: str = Field(
        "localhost,127.0.0.1,[::1]", min_length=1,
        description="comma-separated host names the service answers to (Host header; *.example.com for "
        "subdomains, * for any); others get 400: no DNS rebinding",
    )
    allowed_origins: str = Field(
        "", description="comma-separated origins (https://example.com:8443) whose pages may open WebSockets "
        "(/ws/live, /ws/simulations, /graphql) besides the service's own; * for any",
    )
    max_body_bytes: int = Field(65_536, ge=1024, description="largest accepted request body [bytes]")
    graphql_max_depth: int = Field(8, ge=1, le=64, description="deepest GraphQL query accepted")
    graphql_max_aliases: int = Field(20, ge=0, description="most aliases in one GraphQL request")
    graphql_max_cost: int = Field(
        5000, ge=10, description="highest estimated GraphQL query cost: each field counts once per row of the "
        "lists around it (a list's limit argument, else 100)"
    )
    max_connections: int = Field(
        1000, ge=2, description="most open connections and requests in progress (WebSockets included); "
        "beyond it, 503 Service Unavailable"
    )
    max_websocket_clients: int = Field(
        500, ge=1, description="most clients of /ws/live and /ws/simulations at once; beyond it, close code 1013"
    )
    header_timeout_s: float = Field(
        10.0, gt=0, le=300, description="time a client has to send a request's header lines (from connecting or "
        "from the previous response) before the connection is closed [s]"
    )
    max_header_bytes: int = Field(32_768, ge=4096, description="largest request head (URL and header lines) "
                                  "accepted; beyond it, 400 [bytes]")
    keep_alive_timeout_s: int = Field(5, ge=1, le=300, description="idle time before a kept-alive connection "
                                      "is closed [s]")
    shutdown_timeout_s: int = Field(10, ge=1, description="longest wait for open connections at shutdown [s]")
    client_buffer: int = Field(
        4096, ge=16, description="messages buffered per live client; a client further behind is disconnected"
    )
    prefetch: int = Field(500, ge=1, le=65535, description="unacknowledged live results held at once")
    results_queue: str | None = Field(
        None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$",
        description="this service's durable queue on pvsim.results; every web service needs its own (two on one "
        "queue would each get part of the feed) and finds it again after a restart (default: "
        "pvsim.api.<host name>.<port>)"
    )
    results_queue_expires_s: int = Field(
        86_400, ge=60, description="the broker deletes this service's queue once it has had no consumer this long, "
        "so the queue of a service that moved or is gone does not fill the broker's disk; a service down longer "
        "loses the results published meanwhile [s]"
    )
    stats_interval_s: float = Field(5.0, gt=0, description="how often the live feed reports pipeline counts [s]")

    def results_queue_name(self) -> str:
        """``--results-queue``, or ``pvsim.api.<host name>.<port>``: one per service on a host, kept over restarts."""
        host = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname())[:100] or "host"
        return self.results_queue or f"pvsim.api.{host}.{self.port}"

    @field_validator("allowed_origins")
    @classmethod
    def _check_origins(cls, value: str) -> str:
        from strawberry.http.websocket_origin import normalize_allowed_origins

        normalize_allowed_origins(_items(value))  # ValueError naming a malformed origin
        return value

    @model_validator(mode="after")
    def _read_token_file(self) -> ApiSettings:
        if self.api_token_file is None:
            return self
        if self.api_token is not None:
            raise ValueError("give the token once: --api-token or --api-token-file, not both")
        try:
            lines = self.api_token_file.read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise ValueError(f"cannot read the token file {self.api_token_file}: {error.strerror}") from None
        if not lines or not lines[0].strip():
            raise ValueError(f"the token file {self.api_token_file} is empty")
        object.__setattr__(self, "api_token", SecretStr(lines[0].strip()))  # frozen settings, set once here
        return self

    def host_list(self) -> list[str]:
        """``allowed_hosts`` as a list."""
        return _items(self.allowed_hosts)

    def origin_list(self) -> list[str]:
        """``allowed_origins`` as a list, each as a browser sends it (lowercase, no default port)."""
        from strawberry.http.websocket_origin import normalize_allowed_origins

        return sorted(normalize_allowed_origins(_items(self.allowed_origins)))


    def token(self) -> str | None:
        """The bearer token, or ``None`` when mutations are open."""
        return self.api_token.get_secret_value() if self.api_token else None


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]
