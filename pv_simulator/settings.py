"""Settings of the PV simulator service (flags and ``PVSIM_*`` environment variables): the broker, output directory
and results interval of :mod:`common.settings`, and the parameters of the models it runs
(:mod:`models.pv.parameters`, :mod:`models.battery_parameters`), which batch mode reads too."""

from __future__ import annotations

from pydantic import Field

from common.settings import BrokerSettings, CommonSettings, OutputSettings, ResultsIntervalSettings
from models.battery_parameters import BatteryParameters
from models.pv.parameters import PvModelParameters


# CommonSettings named last keeps the flags' order: pydantic orders fields by the MRO, reversed, and without it
# the battery's (a plain model's) would come before --timezone in --help.
class PvSimulatorSettings(BrokerSettings, OutputSettings, PvModelParameters, ResultsIntervalSettings, BatteryParameters,
                          CommonSettings):
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
