"""Settings of batch mode (flags and ``PVSIM_*`` environment variables)."""

from __future__ import annotations

import os
import re

from pydantic import Field, field_validator

from common.settings import CommonSettings, OutputSettings
from grid.settings import FeederSettings
from models.battery_parameters import BatteryParameters
from models.pv.parameters import PvModelParameters
from models.run_parameters import RunParameters

_SCHEDULER_ADDRESS = re.compile(r"^((tcp|tls|ws|wss|ucx)://)?(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$")


class DaskSettings(CommonSettings):
    """Where tasks run: on a Dask cluster (``--scheduler-address``) or in local processes."""

    scheduler_address: str | None = Field(
        None,
        description="run the tasks on the Dask cluster of this scheduler, e.g. tcp://host:8786 (default: local "
        "worker processes); the output directory must then be the same shared filesystem path on every worker",
    )

    @field_validator("scheduler_address")
    @classmethod
    def _check_scheduler_address(cls, value: str | None) -> str | None:
        if value is not None and not _SCHEDULER_ADDRESS.match(value):
            raise ValueError(f"'{value}' is not a Dask scheduler address (expected tcp://host:port)")
        return value


class BatchSettings(RunParameters, OutputSettings, PvModelParameters, FeederSettings, BatteryParameters, DaskSettings):
    """Everything batch mode needs; see ``python -m batch --help``."""

    workers: int = Field(os.cpu_count() or 1, ge=1, le=256,
                         description="local worker processes (without --scheduler-address)")
