"""Settings of the meter service (flags and ``PVSIM_*`` environment variables)."""

from __future__ import annotations

import math
import datetime as dt
from typing import Literal

from pydantic import Field, field_validator

from common.settings import CommonSettings


class MeterSettings(CommonSettings):
    """Everything the meter needs; see ``python -m meter --help``."""

    date: dt.date | None = Field(
        None, description="first local day to emulate, YYYY-MM-DD (default: today in the site's timezone)"
    )
    days: int = Field(1, ge=1, le=3660, description="number of consecutive days to emulate")
    speed: float = Field(
        math.inf,
        description="emulated seconds per wall second: 'max' (as fast as the broker confirms), 1 = real time",
    )
    interval_s: int = Field(1, ge=1, le=3600, description="emulated time between readings [s]")
    meters: int = Field(1, ge=1, le=1000, description="number of meters, ids meter-1 ... meter-N")
    seed: int = Field(0, ge=0, description="random seed; the same seed gives the same readings")
    model: Literal["random-walk", "uniform"] = Field(
        "random-walk", description="load model: random-walk (building-like) or uniform (0-9000 W draws)"
    )

    @field_validator("speed", mode="before")
    @classmethod
    def _parse_speed(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() == "max":
            return math.inf
        return value

    @field_validator("speed")
    @classmethod
    def _check_speed(cls, value: float) -> float:
        if math.isnan(value) or value <= 0:
            raise ValueError(f"speed must be 'max' or a number > 0, got {value:g}")
        return value

    def first_day(self) -> dt.date:
        """The first local day of the run (``date``, or today in the site's timezone)."""
        return self.date or dt.datetime.now(self.tz).date()

    def meter_ids(self) -> list[str]:
        """``['meter-1', ..., 'meter-N']``."""
        return [f"meter-{n}" for n in range(1, self.meters + 1)]
