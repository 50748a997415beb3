"""Energy balance of a building with PV and a battery, beside the same building with PV alone.

Energy is integrated with the rectangle rule like the day summaries (:mod:`pv_simulator.summary`): each
reading stands for the ``interval_s`` seconds that follow it. With the battery's power b (positive while
charging) and curtailed PV c, the grid sees ``net = meter - PV + b + c`` [kW]; the balance closes as
``consumed + charged + exported + curtailed = imported + PV + discharged`` and the stored energy changes
by ``η·charged - discharged/η``; what is left of charged − discharged is the battery's loss.

References
----------
.. [1] R. Luthander, J. Widén, D. Nilsson, J. Palm, "Photovoltaic self-consumption in buildings: a review",
   Applied Energy 142 (2015) 80-94 (self-consumption and self-sufficiency).
.. [2] J. Weniger, T. Tjaden, V. Quaschning, "Sizing of residential PV battery systems",
   Energy Procedia 46 (2014) 78-87, doi:10.1016/j.egypro.2014.01.160 (equivalent full cycles:
   energy discharged over the usable capacity).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.battery import BatteryDevice, Dispatch


@dataclass(frozen=True)
class BatteryBalance:
    """Energies [kWh] and shares [%] of a period of readings; shares are None when their base is 0."""

    consumed_kwh: float
    """Energy the building used (meter) [kWh]."""
    pv_kwh: float
    """Energy the PV produced before curtailment [kWh]."""
    imported_kwh: float
    """Energy drawn from the grid with the battery [kWh]."""
    exported_kwh: float
    """Energy fed into the grid with the battery [kWh]."""
    curtailed_kwh: float
    """PV energy curtailed to respect a feed-in limit [kWh]."""
    charged_kwh: float
    """Energy into the battery, at its terminals [kWh]."""
    discharged_kwh: float
    """Energy out of the battery, at its terminals [kWh]."""
    losses_kwh: float
    """charged − discharged − change of the stored energy [kWh]."""
    soc_change_kwh: float
    """Stored energy at the end minus at the start [kWh]."""
    equivalent_full_cycles: float
    """discharged / usable capacity [1] (Weniger et al. 2014)."""
    self_consumption_percent: float | None
    """(PV − exported − curtailed) / PV with the battery [%]."""
    self_sufficiency_percent: float | None
    """(consumed − imported) / consumed with the battery [%]."""
    pv_only_imported_kwh: float
    """Energy drawn from the grid with PV alone [kWh]."""
    pv_only_exported_kwh: float
    """Energy fed into the grid with PV alone [kWh]."""
    pv_only_self_consumption_percent: float | None
    """(PV − exported) / PV with PV alone [%]."""
    pv_only_self_sufficiency_percent: float | None
    """(consumed − imported) / consumed with PV alone [%]."""


def _percent(part: float, whole: float) -> float | None:
    return 100.0 * part / whole if whole > 0 else None


def _split_kwh(power_kw: npt.NDArray[np.float64], dt_h: npt.NDArray[np.float64]) -> tuple[float, float]:
    """(energy of the positive part, energy of the negative part as a positive number) [kWh]."""
    energy = power_kw * dt_h
    return float(energy[energy > 0].sum()), float(-energy[energy < 0].sum()) + 0.0  # not -0.0


def battery_balance(meter_power_kw: npt.ArrayLike, pv_power_kw: npt.ArrayLike, interval_s: npt.ArrayLike,
                    result: Dispatch, capacity_kwh: float, initial_soc_kwh: float = 0.0) -> BatteryBalance:
    """The energy balance of readings run through :func:`models.battery.dispatch`.

    Parameters
    ----------
    meter_power_kw, pv_power_kw : array_like, shape (n,)
        Consumption and PV power of each reading [kW], as given to the dispatch.
    interval_s : float or array_like, shape (n,)
        Length of each reading [s].
    result : Dispatch
        What the battery did over those readings.
    capacity_kwh : float
        Usable capacity [kWh], > 0.
    initial_soc_kwh : float
        State of charge before the first reading [kWh].

    Returns
    -------
    BatteryBalance
        Unrounded energies [kWh] and shares [%].
    """
    meter = np.asarray(meter_power_kw, dtype=np.float64)
    pv = np.asarray(pv_power_kw, dtype=np.float64)
    dt_h = np.broadcast_to(np.asarray(interval_s, dtype=np.float64) / 3600.0, meter.shape)
    consumed, pv_kwh = float((meter * dt_h).sum()), float((pv * dt_h).sum())
    imported, exported = _split_kwh(meter - pv + result.battery_power_kw + result.curtailed_kw, dt_h)
    alone_imported, alone_exported = _split_kwh(meter - pv, dt_h)
    charged, discharged = _split_kwh(result.battery_power_kw, dt_h)
    curtailed = float((result.curtailed_kw * dt_h).sum())
    soc_change = (float(result.battery_soc_kwh[-1]) if meter.size else initial_soc_kwh) - initial_soc_kwh
    return BatteryBalance(
        consumed_kwh=consumed, pv_kwh=pv_kwh, imported_kwh=imported, exported_kwh=exported,
        curtailed_kwh=curtailed, charged_kwh=charged, discharged_kwh=discharged,
        losses_kwh=charged - discharged - soc_change, soc_change_kwh=soc_change,
        equivalent_full_cycles=discharged / capacity_kwh,
        self_consumption_percent=_percent(pv_kwh - exported - curtailed, pv_kwh),
        self_sufficiency_percent=_percent(consumed - imported, consumed),
        pv_only_imported_kwh=alone_imported, pv_only_exported_kwh=alone_exported,
        pv_only_self_consumption_percent=_percent(pv_kwh - alone_exported, pv_kwh),
        pv_only_self_sufficiency_percent=_percent(consumed - alone_imported, consumed),
    )


def battery_day_fields(balance: BatteryBalance, soc_start_kwh: float, soc_end_kwh: float) -> dict[str, float | None]:
    """The battery's part of a day summary (``"battery"`` in ``<date>.summary.json``): energies [kWh] rounded to
    6 decimals, cycles and shares [%] to 4; the state of charge at the start and end of the day [kWh] exact
    (a JSON float reads back as the same float), so that a run can resume from it."""
    def share(value: float | None) -> float | None:
        return None if value is None else round(value, 4)

    return {
        "charged_kwh": round(balance.charged_kwh, 6), "discharged_kwh": round(balance.discharged_kwh, 6),
        "losses_kwh": round(balance.losses_kwh, 6), "curtailed_kwh": round(balance.curtailed_kwh, 6),
        "soc_start_kwh": soc_start_kwh, "soc_end_kwh": soc_end_kwh,
        "equivalent_full_cycles": round(balance.equivalent_full_cycles, 4),
        "pv_only_imported_kwh": round(balance.pv_only_imported_kwh, 6),
        "pv_only_exported_kwh": round(balance.pv_only_exported_kwh, 6),
        "pv_only_self_consumption_percent": share(balance.pv_only_self_consumption_percent),
        "pv_only_self_sufficiency_percent": share(balance.pv_only_self_sufficiency_percent),
    }


def device_day_fields(battery: BatteryDevice, meter_power_kw: npt.ArrayLike, pv_power_kw: npt.ArrayLike,
                      interval_s: float) -> dict[str, float | None]:
    """:func:`battery_day_fields` of the day a :class:`~models.battery.BatteryDevice` ran last, from its columns
    as the day files hold them (0.1 W, 0.1 Wh) and the day's consumption and PV before curtailment [kW]."""
    result = Dispatch(battery.battery_dw / 10_000, battery.soc_dw / 10_000, battery.curtailed_dw / 10_000,
                      battery.soc_kwh)
    balance = battery_balance(meter_power_kw, pv_power_kw, interval_s, result, battery.spec.capacity_kwh,
                              battery.day_start_soc_kwh)
    return battery_day_fields(balance, battery.day_start_soc_kwh, battery.soc_kwh)
