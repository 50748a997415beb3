"""Settings of the meter service (flags and ``PVSIM_*`` environment variables); what a run emulates
(:class:`models.run_parameters.RunParameters`) it shares with batch mode."""

from __future__ import annotations

import math

from pydantic import Field, field_validator

from common.settings import BrokerSettings, CommonSettings
from models.run_parameters import RunParameters


# CommonSettings named last keeps the flags' order: pydantic orders fields by the MRO, reversed, and without it
# the run's (a plain model's) would come before --log-level in --help.
class MeterSettings(BrokerSettings, RunParameters, CommonSettings):
    """Everything the meter needs; see ``python -m meter --help``."""

    speed: float = Field(
        math.inf,
        description="emulated seconds per wall second: 'max' (as fast as the broker confirms), 1 = real time",
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
