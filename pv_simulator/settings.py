"""Settings of the PV simulator service (flags and ``PVSIM_*`` environment variables)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from common.settings import BrokerSettings, CommonSettings


class OutputSettings(CommonSettings):
    """Where the daily CSVs go."""

    output_dir: Path = Field(Path("output"), description="directory of the daily CSVs, <dir>/<meter_id>/<date>.csv")


class PvSimulatorSettings(BrokerSettings, OutputSettings):
    """Everything the PV simulator needs; see ``python -m pv_simulator --help``."""

    exit_when_done: bool = Field(
        False,
        description="exit 0 once every reading of every meter that announced its end is written and flushed",
    )
