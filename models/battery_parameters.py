"""The parameters of the home battery behind the meter (pure data and validation; see :mod:`models.battery`).

Defined once for the flags and for requests: the commands that run a battery (the PV simulator, batch mode
and its sweeps) mix :class:`BatteryParameters` into their settings, which read the fields from flags
(``--battery-kwh`` ...) and ``PVSIM_BATTERY_*``; the web service's day simulations take them in the request
body (``api.schemas.BatteryRequest``). Nothing here reads them.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from common.choices import one_of
from models.battery import DEFAULT_EFFICIENCY, STRATEGIES, BatterySpec


class BatteryParameters(BaseModel):
    """The battery behind the meter; ``battery_kwh`` 0 (the default): none.

    Raises
    ------
    pydantic.ValidationError
        If a value is out of range or the strategy is unknown.
    """

    battery_kwh: float = Field(0.0, ge=0, le=1000, description="usable battery capacity [kWh]; 0 = no battery")
    battery_kw: float | None = Field(
        None, gt=0, le=1000, description="battery charge and discharge limit [kW] (default: half the capacity)")
    battery_efficiency: float = Field(
        DEFAULT_EFFICIENCY, gt=0, le=1, description="one-way efficiency of charging and of discharging [1]")
    battery_initial_soc_percent: float = Field(
        0.0, ge=0, le=100, description="battery state of charge at the start of the run [% of capacity]")
    battery_strategy: str = Field(
        "self-consumption", description=f"battery dispatch, one of {', '.join(STRATEGIES)}: self-consumption "
        "charges every PV surplus; grid-friendly caps the export and keeps room for the midday peak")
    battery_feed_in_limit_percent: float = Field(
        60.0, ge=0, le=100, description="grid-friendly battery: export cap [% of the PV's kWp]; PV above it is "
        "curtailed")
    battery_charge_end_hour: float = Field(
        15.0, ge=0, le=24, description="grid-friendly battery: local hour by which it should be full [h]")

    @field_validator("battery_strategy")
    @classmethod
    def _check_strategy(cls, value: str) -> str:
        return one_of(value, STRATEGIES, "battery strategy")

    def battery_spec(self, pv_kwp: float, capacity_kwh: float | None = None) -> BatterySpec | None:
        """The battery of these parameters (``capacity_kwh`` overrides ``battery_kwh``) for a PV of ``pv_kwp``
        [kWp]; None without one (capacity 0)."""
        capacity = self.battery_kwh if capacity_kwh is None else capacity_kwh
        if capacity <= 0:
            return None
        return BatterySpec(capacity, self.battery_kw, self.battery_efficiency, self.battery_strategy,
                           pv_kwp=pv_kwp, feed_in_limit_share=self.battery_feed_in_limit_percent / 100,
                           charge_end_hour=self.battery_charge_end_hour)

    def initial_soc_kwh(self, capacity_kwh: float | None = None) -> float:
        """State of charge at the start [kWh]."""
        capacity = self.battery_kwh if capacity_kwh is None else capacity_kwh
        return capacity * self.battery_initial_soc_percent / 100
