"""Settings of ``python -m grid`` (flags and ``PVSIM_*`` environment variables)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from common.choices import divides_an_hour
from common.clock import day_bounds_s
from common.settings import CommonSettings
from grid.layout import FEEDER_NAMES, check_feeder_name

DEFAULT_FEEDER = "1-LV-semiurb4"


class FeederSettings(CommonSettings):
    """Which feeder and how the buildings load it (``python -m grid``, and ``python -m batch --feeder``)."""

    feeder: str | None = Field(
        None,
        description=f"also solve the power flow of each day's buildings on this feeder: "
        f"{', '.join(FEEDER_NAMES)} (meter i takes the i-th load; see python -m grid --help)",
    )
    resolution_s: int = Field(60, ge=1, le=3600,
                              description="power-flow interval; readings are averaged over it [s]")
    power_factor: float = Field(0.95, gt=0, le=1, description="power factor of the buildings' loads (inductive)")

    @field_validator("feeder")
    @classmethod
    def _check_feeder(cls, value: str | None) -> str | None:
        return value if value is None else check_feeder_name(value)

    @field_validator("resolution_s")
    @classmethod
    def _check_resolution(cls, value: int) -> int:
        return divides_an_hour(value, "resolution_s")


class GridSettings(FeederSettings):
    """Everything ``python -m grid`` needs; see ``python -m grid --help``."""

    feeder: str | None = Field(
        DEFAULT_FEEDER,
        description=f"feeder: {', '.join(FEEDER_NAMES)}; meter i (natural order) takes the i-th load "
        "of the network's load table, the feeder's own generators are removed",
    )

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
