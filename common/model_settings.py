"""Settings shared by several commands (flags and ``PVSIM_*`` environment variables): where the day files go,
the PV model and the home battery. The PV simulator, batch mode and its sweeps combine them with their own.

Each builds the model objects it describes (:meth:`PvModelSettings.pv_profile`, :meth:`BatterySettings.battery_spec`)
from :mod:`models`; nothing here imports a service.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, field_validator, model_validator

from common.settings import CommonSettings, one_of
from models.battery import DEFAULT_EFFICIENCY, STRATEGIES, BatterySpec
from models.pv.profile import PvProfile
from models.pv.registry import build_pv_profile, pv_model_names
from models.pv.site import PvSite


class OutputSettings(CommonSettings):
    """Where the daily CSVs go."""

    output_dir: Path = Field(Path("output"), description="directory of the daily CSVs, <dir>/<meter_id>/<date>.csv")


class PvModelSettings(CommonSettings):
    """Which PV model gives the PV power, and the system it describes."""

    pv_model: str = Field(
        "reference", description=f"PV model, one of {', '.join(pv_model_names())}: reference = the challenge's "
                                 "curve, clearsky = pvlib for the site below, weather = the site below under the DWD "
                                 "test reference year of its region (Datenbasis: Deutscher Wetterdienst)"
    )
    pv_peak_kw: float | None = Field(
        None, gt=0, description="reference model: scale the curve to this peak [kW] (default: as digitized, 3.24)"
    )
    latitude_deg: float = Field(
        52.52, ge=-90, le=90, description="clearsky/weather: site latitude, north positive [deg]"
    )
    longitude_deg: float = Field(
        13.405, ge=-180, le=180, description="clearsky/weather: site longitude, east positive [deg]"
    )
    altitude_m: float = Field(34.0, ge=-500, le=9000, description="clearsky/weather: site altitude above sea level [m]")
    surface_tilt_deg: float = Field(
        30.0, ge=0, le=90, description="clearsky/weather: module tilt from horizontal [deg]"
    )
    surface_azimuth_deg: float = Field(
        180.0, ge=0, lt=360, description="clearsky/weather: module azimuth, clockwise from north, 180 = south [deg]"
    )
    dc_capacity_kw: float = Field(
        5.0, gt=0, description="clearsky/weather: DC nameplate power at STC [kWp]; the day summaries' specific "
                               "yield [kWh/kWp] divides by it"
    )
    inverter_capacity_kw: float = Field(4.6, gt=0, description="clearsky/weather: inverter AC limit [kW]")
    losses_percent: float = Field(14.0, ge=0, lt=100, description="clearsky/weather: PVWatts system losses [%]")
    weather_region: int | None = Field(
        None, ge=1, le=15, description="weather: DWD TRY2010 climate region 1..15 (default: the one containing "
                                       "--latitude-deg/--longitude-deg; Berlin is 4, Potsdam)"
    )

    @field_validator("pv_model")
    @classmethod
    def _check_pv_model(cls, value: str) -> str:
        return one_of(value, pv_model_names(), "PV model")

    @model_validator(mode="after")
    def _check_the_site_has_a_weather_region(self) -> PvModelSettings:
        if self.pv_model == "weather" and self.weather_region is None:
            from models.pv.try_data import region_at

            region_at(self.latitude_deg, self.longitude_deg)  # raises for a site outside Germany's regions
        return self

    def pv_site(self) -> PvSite:
        """The PV system these settings describe."""
        return PvSite(
            latitude=self.latitude_deg, longitude=self.longitude_deg, altitude=self.altitude_m,
            timezone=self.timezone, surface_tilt=self.surface_tilt_deg, surface_azimuth=self.surface_azimuth_deg,
            dc_capacity_kw=self.dc_capacity_kw, inverter_capacity_kw=self.inverter_capacity_kw,
            losses_percent=self.losses_percent,
        )

    def pv_profile(self) -> PvProfile:
        """The PV model these settings describe (picklable, so batch workers can use it)."""
        return build_pv_profile(self.pv_model, self.pv_site(), peak_kw=self.pv_peak_kw,
                                weather_region=self.weather_region)

    def pv_kwp(self) -> float:
        """The peak power the PV model's output stands for [kWp]: the DC capacity, or the reference curve's peak."""
        if self.pv_model == "reference":
            from models.pv.reference import reference_day_dw

            return self.pv_peak_kw or max(reference_day_dw()) / 10_000
        return self.dc_capacity_kw

    def yield_capacity_kw(self) -> float | None:
        """The DC capacity the day summaries' specific yield divides by [kWp]: ``dc_capacity_kw`` for the
        ``clearsky`` and ``weather`` models; None (no yield) for ``reference``.

        The reference model is a measured AC power curve scaled to its peak (``pv_peak_kw``); the DC rating of
        the system that produced it is not known, and an AC peak is no kWp (a system's AC peak is commonly well
        below its STC nameplate, by losses, temperature and irradiance below 1,000 W/m²), so dividing by it
        would overstate the yield by an unknown factor. ``python -m pv_simulator.report --dc-capacity-kw``
        gives the yield of such days for a rating the user knows.
        """
        return None if self.pv_model == "reference" else self.dc_capacity_kw


class BatteryParameters(BaseModel):
    """The battery behind the meter (see :mod:`models.battery`); ``battery_kwh`` 0 (the default): none.

    Defined once for the flags and for requests: :class:`BatterySettings` reads these fields from flags and
    ``PVSIM_BATTERY_*`` (batch, sweeps, the PV simulator), the web service's day simulations take them in the
    request body (``api.schemas.BatteryRequest``); both refuse unknown fields.

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
        """The battery of these settings (``capacity_kwh`` overrides ``battery_kwh``) for a PV of ``pv_kwp``
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


class BatterySettings(BatteryParameters, CommonSettings):
    """:class:`BatteryParameters` from flags (``--battery-kwh`` ...) and ``PVSIM_BATTERY_*``; ``--battery-kwh 0``
    (the default): none."""
