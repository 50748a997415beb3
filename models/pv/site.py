"""Where a PV system stands and what it is: the site and system parameters every PV model reads."""

from __future__ import annotations

from dataclasses import dataclass

SAPM_OPEN_RACK_GLASS_POLYMER = {"a": -3.56, "b": -0.075, "deltaT": 3.0}
"""SAPM cell temperature parameters of free-standing glass/polymer modules: ``a`` [unitless], ``b`` [s/m],
``deltaT`` [°C] (King et al., SAND2004-3535, table 1; pvlib's
``TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"]``, copied here so that describing a site
does not import pvlib)."""


@dataclass(frozen=True)
class PvSite:
    """A grid-connected PV system and where it stands. Defaults: 5 kWp, south, 30° tilt, in Berlin.

    Parameters
    ----------
    latitude : float
        Latitude, north positive [deg].
    longitude : float
        Longitude, east positive [deg].
    altitude : float
        Height above sea level [m]; sets the air pressure of the clear-sky model.
    timezone : str
        IANA time zone of the site's clocks, e.g. ``"Europe/Berlin"``.
    surface_tilt : float
        Tilt of the modules from horizontal [deg], 0 to 90.
    surface_azimuth : float
        Direction the modules face, clockwise from north [deg]: 180 = south.
    dc_capacity_kw : float
        DC nameplate power at standard test conditions [kWp].
    inverter_capacity_kw : float
        Inverter AC power limit [kW]; AC power never exceeds it.
    losses_percent : float
        PVWatts system losses (soiling, shading, mismatch, wiring, LID, nameplate,
        availability) [%], applied as a flat factor to DC power; 14 % is PVWatts'
        default (``pvlib.pvsystem.pvwatts_losses()`` = 14.08 %) [1]_.
    gamma_pdc : float
        Temperature coefficient of DC power [1/°C]; −0.0037 is a current
        crystalline-silicon module (PVWatts' "standard" module type).
    sapm_a, sapm_b, sapm_delta_t : float
        SAPM cell temperature parameters: ``a`` [unitless], ``b`` [s/m] and ``deltaT``
        [°C]; default :data:`SAPM_OPEN_RACK_GLASS_POLYMER` (free-standing glass/polymer
        modules, a conservative choice for a well-ventilated roof) [2]_.
    temp_air_c : float
        Ambient air temperature, assumed constant all day [°C].
    wind_speed_m_s : float
        Wind speed, assumed constant all day [m/s].
    albedo : float
        Ground reflectance [unitless], for the ground-reflected irradiance.
    eta_inv_nom : float
        Nominal inverter efficiency [unitless] of the PVWatts inverter model.

    Raises
    ------
    ValueError
        If a capacity is not positive, the tilt is outside 0-90° or the losses
        outside 0-100 %.

    References
    ----------
    .. [1] A. P. Dobos, "PVWatts Version 5 Manual", NREL/TP-6A20-62641, 2014.
    .. [2] D. L. King, W. E. Boyson and J. A. Kratochvil, "Photovoltaic Array Performance
       Model", SAND2004-3535, Sandia National Laboratories, 2004.
    """

    latitude: float = 52.52
    longitude: float = 13.405
    altitude: float = 34.0
    timezone: str = "Europe/Berlin"
    surface_tilt: float = 30.0
    surface_azimuth: float = 180.0
    dc_capacity_kw: float = 5.0
    inverter_capacity_kw: float = 4.6
    losses_percent: float = 14.0
    gamma_pdc: float = -0.0037
    sapm_a: float = SAPM_OPEN_RACK_GLASS_POLYMER["a"]
    sapm_b: float = SAPM_OPEN_RACK_GLASS_POLYMER["b"]
    sapm_delta_t: float = SAPM_OPEN_RACK_GLASS_POLYMER["deltaT"]
    temp_air_c: float = 20.0
    wind_speed_m_s: float = 1.0
    albedo: float = 0.25
    eta_inv_nom: float = 0.96

    def __post_init__(self) -> None:
        if not (self.dc_capacity_kw > 0 and self.inverter_capacity_kw > 0):
            raise ValueError("dc_capacity_kw and inverter_capacity_kw must be > 0")
        if not 0 <= self.surface_tilt <= 90:
            raise ValueError(f"surface_tilt must be within 0-90 deg, got {self.surface_tilt}")
        if not 0 <= self.losses_percent < 100:
            raise ValueError(f"losses_percent must be within 0-100 %, got {self.losses_percent}")


DEFAULT_SITE = PvSite()
"""5 kWp facing south at 30° in Berlin (the defaults of :class:`PvSite`)."""
