"""The parameters of a run's readings: which days, meters, interval and load model (pure data and validation).

The meter publishes the readings, batch mode and its sweeps write them; their settings mix :class:`RunParameters`
in and read the fields from flags (``--days`` ...) and ``PVSIM_*`` environment variables; nothing here reads them.
:meth:`RunParameters.plan` builds the :class:`models.plan.RunPlan` they all follow."""

from __future__ import annotations

import datetime as dt
import math
from typing import Literal

from pydantic import Field, field_validator, model_validator

from common.choices import divides_an_hour, one_of
from common.clock import day_bounds_s
from common.schema import EARLIEST, LATEST
from common.timezone import SiteTimezone
from models.load.base import LoadParams
from models.load.registry import LOAD_MODELS
from models.plan import RunPlan


class RunParameters(SiteTimezone):
    """What a run emulates: which days, meters, interval and load model, in the site's local time.

    Raises
    ------
    pydantic.ValidationError
        If a value is out of range, the load model is unknown, the days leave the wire contract's range or the
        interval does not divide each local day.
    """

    date: dt.date | None = Field(
        None, description="first local day to emulate, YYYY-MM-DD (default: today in the site's timezone)"
    )
    days: int = Field(1, ge=1, le=3660, description="number of consecutive days to emulate")
    interval_s: int = Field(1, ge=1, le=3600, description="emulated time between readings [s]")
    meters: int = Field(1, ge=1, le=1000, description="number of meters, ids meter-1 ... meter-N")
    seed: int = Field(0, ge=0, description="random seed; the same seed gives the same readings")
    model: str = Field(
        "random-walk",
        description=f"load model, one of {', '.join(LOAD_MODELS)}: random-walk (building-like), uniform "
        "(0-9000 W draws), gaussian (normal around --gaussian-mean-w), profile (BDEW standard load profile)",
    )
    gaussian_mean_w: float = Field(3000.0, ge=0, le=9000, description="mean of the gaussian model [W]")
    gaussian_std_w: float = Field(1000.0, ge=0, description="standard deviation of the gaussian model [W]")
    annual_kwh: float = Field(4000.0, gt=0, description="annual consumption of the profile model [kWh/a]")
    profile: Literal["H25", "G25"] = Field(
        "H25", description="BDEW 2025 profile class of the profile model: H25 household, G25 commercial"
    )

    @field_validator("model")
    @classmethod
    def _check_model(cls, value: str) -> str:
        return one_of(value, LOAD_MODELS, "load model")

    @field_validator("interval_s")
    @classmethod
    def _check_interval(cls, value: int) -> int:
        return divides_an_hour(value, "interval_s")

    @model_validator(mode="after")
    def _check_days_in_contract(self) -> RunParameters:
        # Readings outside the wire contract's range would all be dead-lettered (and the far edge
        # overflows dates): refuse before any work. Dates compare whole days, so no instant is computed.
        first = self.first_day()
        last = first + dt.timedelta(days=self.days - 1) if first < dt.date(9000, 1, 1) else dt.date.max
        if not EARLIEST.date() < first or not last < LATEST.date():
            raise ValueError(
                f"the run's days from {first} ({self.days} days) leave the wire contract's range "
                f"{EARLIEST.date()} to {LATEST.date()}; choose --date and --days inside it"
            )
        return self

    @model_validator(mode="after")
    def _check_interval_fits_every_day(self) -> RunParameters:
        # Days of 23.5 or 24.5 hours (Australia/Lord_Howe) must hold whole intervals too.
        first = self.first_day()
        for offset in range(self.days):
            day = first + dt.timedelta(days=offset)
            start, end = day_bounds_s(day, self.tz)
            if (end - start) % self.interval_s:
                raise ValueError(
                    f"--interval-s {self.interval_s} does not divide the local day {day} in {self.timezone} "
                    f"({(end - start) / 3600:g} h); use an interval that divides {math.gcd(end - start, 3600)} s"
                )
        return self

    def first_day(self) -> dt.date:
        """The first local day of the run (``date``, or today in the site's timezone)."""
        return self.date or dt.datetime.now(self.tz).date()

    def meter_ids(self) -> list[str]:
        """``['meter-1', ..., 'meter-N']``."""
        return [f"meter-{n}" for n in range(1, self.meters + 1)]

    def plan(self) -> RunPlan:
        """The readings this run publishes (or, in batch mode, writes)."""
        return RunPlan(
            meter_ids=tuple(self.meter_ids()),
            first_day=self.first_day(),
            days=self.days,
            tz=self.tz,
            interval_s=self.interval_s,
            seed=self.seed,
            model=self.model,
            load=LoadParams(mean_w=self.gaussian_mean_w, std_w=self.gaussian_std_w, annual_kwh=self.annual_kwh,
                            profile=self.profile),
        )
