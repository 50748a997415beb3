"""The parameters of a PV model: which model, and the system it describes (pure data and validation).

Every command that runs a PV model (the PV simulator, batch mode and its sweeps) mixes
:class:`PvModelParameters` into its settings, which read the fields from flags (``--pv-model`` ...) and
``PVSIM_*`` environment variables; nothing here reads them.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from common.choices import one_of
from common.timezone import SiteTimezone
from models.pv.profile import PvProfile
from models.pv.registry import build_pv_profile, pv_model_names
from models.pv.site import PvSite


class PvModelParameters(SiteTimezone):
    """Which PV model gives the PV power, and the system it describes (at a site keeping ``timezone``).

    Raises
    ------
    pydantic.ValidationError
        If a value is out of range, the model is unknown, or a ``weather`` site lies in no TRY region.
    """

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
    def _check_the_site_has_a_weather_region(self) -> PvModelParameters:
        if self.pv_model == "weather" and self.weather_region is None:
            from models.pv.try_data import region_at

            region_at(self.latitude_deg, self.longitude_deg)  # raises for a site outside Germany's regions
        return self

    def pv_site(self) -> PvSite:
        """The PV system these parameters describe."""
        return PvSite(
            latitude=self.latitude_deg, longitude=self.longitude_deg, altitude=self.altitude_m,
            timezone=self.timezone, surface_tilt=self.surface_tilt_deg, surface_azimuth=self.surface_azimuth_deg,
            dc_capacity_kw=self.dc_capacity_kw, inverter_capacity_kw=self.inverter_capacity_kw,
            losses_percent=self.losses_percent,
        )

    def pv_profile(self) -> PvProfile:
        """The PV model these parameters describe (picklable, so batch workers can use it)."""
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
