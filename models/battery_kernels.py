"""The compiled recurrences of :mod:`models.battery` (numba), apart so that importing ``models.battery`` (settings
validation, the PV simulator without a battery) does not load numba: about 0.3 s of CPU and 120 MB of peak
memory at every service start (measured on the 1 x 1 pipeline benchmark, issue #17).

Each strategy is a rule of how much to charge [kW] from a surplus [kW], given the energy the battery can
still take in [kWh] (room / η), the local hour [h], the export cap [kW] and the end hour [h]; :func:`run` is
the recurrence they share. See :mod:`models.battery` for the models and their sources.
"""

import numba


@numba.njit(nogil=True)
def _self_consumption(surplus_kw, room_kwh, hour, export_cap_kw, charge_end_hour):  # pragma: no cover
    return surplus_kw  # every surplus, as far as power and room allow


@numba.njit(nogil=True)
def _grid_friendly(surplus_kw, room_kwh, hour, export_cap_kw, charge_end_hour):  # pragma: no cover
    left_h = charge_end_hour - hour
    if left_h <= 0.0:
        return surplus_kw
    # Before the end hour: the part above the cap, or the free room spread evenly over the hours left.
    return max(surplus_kw - export_cap_kw, room_kwh / left_h)


@numba.njit(nogil=True)
def run(charge_kw, meter_kw, pv_kw, dt_h, hour, capacity_kwh, limit_kw, efficiency, soc_kwh,
         export_cap_kw, charge_end_hour, power_kw, soc_out, curtailed_kw):  # pragma: no cover - compiled
    """The recurrence every strategy shares; ``charge_kw`` is the strategy's wish when there is a surplus."""
    for i in range(meter_kw.shape[0]):
        s = pv_kw[i] - meter_kw[i]
        dt = dt_h[i]
        if s > 0.0:
            wanted = charge_kw(s, (capacity_kwh - soc_kwh) / efficiency, hour[i], export_cap_kw, charge_end_hour)
            p = max(0.0, min(s, wanted, limit_kw, (capacity_kwh - soc_kwh) / (efficiency * dt)))
            soc_kwh = min(capacity_kwh, soc_kwh + efficiency * p * dt)
            if s - p > export_cap_kw:
                curtailed_kw[i] = s - p - export_cap_kw
        elif s < 0.0:
            p = -min(-s, limit_kw, efficiency * soc_kwh / dt)
            soc_kwh = max(0.0, soc_kwh + p * dt / efficiency)
        else:
            p = 0.0
        power_kw[i] = p
        soc_out[i] = soc_kwh
    return soc_kwh


STRATEGY_KERNELS = {
    "self-consumption": _self_consumption,
    "grid-friendly": _grid_friendly,
}
"""The compiled rule of each strategy of :data:`models.battery.STRATEGIES`, by the same name."""
