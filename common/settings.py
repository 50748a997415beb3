"""Typed settings shared by the commands, read from flags and environment variables.

Each command has one settings class (``MeterSettings``, ``PvSimulatorSettings``, ``BatchSettings`` ...) built
on :class:`CommonSettings`, the pieces here it shares with others and the parameters of the models it runs
(plain pydantic models in :mod:`models`, such as :class:`models.pv.parameters.PvModelParameters`, which it reads
like its own fields). Environment variables are named ``PVSIM_<FIELD>`` (except ``AMQP_URL``); flags are
``--<field-with-dashes>`` and win over the environment. :func:`common.cli.parse_settings` turns the fields into
an ``argparse`` CLI.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pythonjsonlogger.json import JsonFormatter

from common.redact import RedactingFilter
from common.schema import DEFAULT_RESULTS_INTERVAL_S
from common.timezone import SiteTimezone

DEFAULT_AMQP_URL = "amqp://guest:guest@localhost:5672/%2F"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
QUIET_LOGGERS = (
    "alembic.runtime.plugins",  # "setup plugin alembic.autogenerate.schemas", ... at every start
    "pandapower.plotting",  # "Failed to import plotly - interactive plotting will not be available" at import
)
"""Libraries whose INFO lines say nothing to a user; shown only at ``--log-level DEBUG``."""
QUIET_PREFIXES = {"alembic.runtime.migration": ("Context impl ", "Will assume ")}
"""INFO lines of a library logger shown only at DEBUG (alembic's "Running upgrade 0001 -> 0002" stays)."""


class _DropChatter(logging.Filter):
    """Drops the INFO records whose message starts with one of ``prefixes``."""

    def __init__(self, prefixes: tuple[str, ...]) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.INFO or not str(record.msg).startswith(self.prefixes)


class CommonSettings(BaseSettings, SiteTimezone):
    """Settings every command shares: the site's timezone (:class:`common.timezone.SiteTimezone`) and logging.

    Raises
    ------
    pydantic.ValidationError
        If a value is malformed (the CLI turns it into one line and exit code 2).
    """

    model_config = SettingsConfigDict(
        env_prefix="PVSIM_", frozen=True, extra="forbid", populate_by_name=True, env_ignore_empty=True
    )

    log_level: str = Field("INFO", description="log level: DEBUG, INFO, WARNING or ERROR")
    log_json: bool = Field(False, description="log one JSON object per line (for containers and log shippers)")

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"'{value}' is not one of {', '.join(LOG_LEVELS)}")
        return level

    def configure_logging(self) -> None:
        """Log to stderr at ``log_level``: plain text, or JSON lines with ``log_json``."""
        handler = logging.StreamHandler()
        if self.log_json:
            # time: ISO 8601 in UTC (the library's ``timestamp``), like every timestamp on the wire
            handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s",
                                               rename_fields={"levelname": "level"}, timestamp="time"))
        else:
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactingFilter())  # a URL with a password never reaches the log
        logging.basicConfig(level=self.log_level, handlers=[handler], force=True)
        # pika logs connection failures at ERROR; ours say the same once with what to do.
        logging.getLogger("pika").setLevel(logging.DEBUG if self.log_level == "DEBUG" else logging.CRITICAL)
        debug = self.log_level == "DEBUG"
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.DEBUG if debug else logging.WARNING)
        for name, prefixes in QUIET_PREFIXES.items():
            library = logging.getLogger(name)
            for old in [item for item in library.filters if isinstance(item, _DropChatter)]:
                library.removeFilter(old)
            if not debug:
                library.addFilter(_DropChatter(prefixes))


class BrokerSettings(CommonSettings):
    """Where the broker is and how long to wait for it (both services)."""

    amqp_url: str = Field(
        DEFAULT_AMQP_URL,
        validation_alias=AliasChoices("amqp_url", "AMQP_URL"),
        description="AMQP URL of the RabbitMQ broker (vhost URL-encoded: %2F is /); for a cluster, "
                    "the nodes' URLs separated by commas, tried in turn",
    )
    broker_timeout_s: float = Field(
        120.0,
        gt=0,
        description="how long to keep retrying an unreachable broker before giving up [s]",
    )

    @field_validator("amqp_url")
    @classmethod
    def _check_amqp_url(cls, value: str) -> str:
        parts = [part.strip() for part in value.split(",")]
        for part in parts:
            if not part.startswith(("amqp://", "amqps://")):
                raise ValueError(f"'{part}' is not an AMQP URL (expected amqp://user:pass@host:port/vhost, "
                                 "or several of a cluster's nodes separated by commas)")
        return ",".join(parts)


class OutputSettings(CommonSettings):
    """Where the daily CSVs go (the PV simulator, batch mode and its sweeps)."""

    output_dir: Path = Field(Path("output"), description="directory of the daily CSVs, <dir>/<meter_id>/<date>.csv")


class ResultsIntervalSettings(CommonSettings):
    """Length of the live results' intervals (the PV simulator's feed, and ``python -m api import``)."""

    results_interval_s: int = Field(
        DEFAULT_RESULTS_INTERVAL_S, ge=1, le=86_400,
        description="length of the live results' intervals published to pvsim.results, emulated seconds "
                    "dividing 86400 (60 = one result per meter and minute)",
    )

    @field_validator("results_interval_s")
    @classmethod
    def _check_results_interval(cls, value: int) -> int:
        if 86_400 % value:
            raise ValueError(f"{value} does not divide 86400 (a UTC day); use e.g. 60, 300, 900 or 3600")
        return value
