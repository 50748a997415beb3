"""Settings of the PV simulator service (flags and ``PVSIM_*`` environment variables); the ones it shares with
batch mode (output, PV model, battery) are in :mod:`common.model_settings`."""

from __future__ import annotations

from pydantic import Field, field_validator

from common.model_settings import BatterySettings, OutputSettings, PvModelSettings
from common.settings import BrokerSettings, CommonSettings
from pv_simulator.results import DEFAULT_INTERVAL_S as DEFAULT_RESULTS_INTERVAL_S


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


class PvSimulatorSettings(BrokerSettings, OutputSettings, PvModelSettings, ResultsIntervalSettings, BatterySettings):
    """Everything the PV simulator needs; see ``python -m pv_simulator --help``."""

    interval_s: int = Field(
        1, ge=1, le=3600,
        description="with a battery: the meters' time between readings (their --interval-s), the length of each "
                    "reading the battery is dispatched over [s]",
    )

    exit_when_done: bool = Field(
        False,
        description="exit 0 once every reading of every meter that announced its end is written and flushed",
    )
    idle_exit_s: float = Field(
        0.0, ge=0,
        description="with --exit-when-done: exit 1 when no message has arrived for this long while runs are "
                    "still expected (none announced yet, or one incomplete), e.g. because the meter failed; "
                    "0 = wait forever. Not for a standby PV simulator, which receives nothing until it "
                    "takes over [s]",
    )
