"""Settings of ``python -m grid`` (flags and ``PVSIM_*`` environment variables)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from common.clock import day_bounds_s
from common.settings import CommonSettings
from grid.feeders import FEEDERS, available_feeders

DEFAULT_FEEDER = "1-LV-semiurb4"


class FeederSettings(CommonSettings):
    """Which feeder and how the buildings load it (shared by ``python -m grid`` and batch mode)."""

    feeder: str = Field(
        DEFAULT_FEEDER,
        description=f"feeder: {', '.join(available_feeders())}; meter i (natural order) takes the i-th load "
        "of the network's load table, the feeder's own generators are removed",
    )
    resolution_s: int = Field(60, ge=1, le=3600,
                              description="power-flow interval; readings are averaged over it [s]")
    power_factor: float = Field(0.95, gt=0, le=1, description="power factor of the buildings' loads (inductive)")

    @field_validator("feeder")
    @classmethod
    def _check_feeder(cls, value: str) -> str:
        if value not in FEEDERS:
            raise ValueError(f"unknown feeder '{value}' (available: {', '.join(available_feeders())})")
        return value

    @field_validator("resolution_s")
    @classmethod
    def _check_resolution(cls, value: int) -> int:
        if 3600 % value:
            raise ValueError(f"resolution_s must divide 3600 (1, 2, 5, 10, 15, 30, 60, ... s), got {value}")
        return value


class GridSettings(FeederSettings):
    """Everything ``python -m grid`` needs; see ``python -m grid --help``."""

    output_dir: Path = Field(Path("output"), description="directory of the meters' day CSVs; results go to "
                             "<dir>/grid/<feeder>/")
    date: dt.date | None = Field(None, description="local day to solve, YYYY-MM-DD (default: today in the "
                                 "site's timezone)")

    @model_validator(mode="after")
    def _check_resolution_fits_day(self) -> GridSettings:
        start, end = day_bounds_s(self.day(), self.tz)
        if (end - start) % self.resolution_s:
            raise ValueError(f"--resolution-s {self.resolution_s} does not divide the local day {self.day()} "
                             f"({(end - start) / 3600:g} h)")
        return self

    def day(self) -> dt.date:
        """The local day to solve (``date``, or today in the site's timezone)."""
        return self.date or dt.datetime.now(self.tz).date()
