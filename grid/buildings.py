"""The building model: a pvsim meter as a load, its PV as a static generator, on a feeder's loads.

A building draws P = the meter's power at Q = P·tan(acos(power factor)) (inductive,
constant power) and its rooftop PV feeds in at unity power factor. Meter *i* (in natural
order of the ids: meter-2 before meter-10) takes the place of the *i*-th load in the
network's load table; loads without a meter carry nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandapower as pp


class TooManyMetersError(ValueError):
    """More meters than the feeder has loads."""


class BadPowerFactorError(ValueError):
    """A power factor outside (0, 1]."""


def check_power_factor(power_factor: float) -> float:
    """``power_factor`` if it is in (0, 1]; raises :class:`BadPowerFactorError` otherwise."""
    if not (0.0 < power_factor <= 1.0):
        raise BadPowerFactorError(f"power factor must be in (0, 1], got {power_factor}")
    return float(power_factor)


def reactive_power(p: npt.ArrayLike, power_factor: float) -> npt.NDArray[np.float64]:
    """Q of a load drawing ``p`` at ``power_factor`` (inductive): ``p · tan(acos(pf))``, same unit and shape as ``p``.

    Raises :class:`BadPowerFactorError` if ``power_factor`` is not in (0, 1].
    """
    ratio = math.tan(math.acos(check_power_factor(power_factor)))
    return np.asarray(p, dtype=np.float64) * ratio


@dataclass(frozen=True)
class PlacedFeeder:
    """A feeder network with buildings in place of its first loads.

    ``net`` has every load at 0 and one static generator (the PV, 0 MW) per building at its
    load's bus. ``meter_ids[i]`` is load ``load_index[i]`` and generator ``pv_index[i]``
    at bus ``bus_index[i]``.
    """

    name: str
    net: pp.pandapowerNet
    meter_ids: tuple[str, ...]
    load_index: npt.NDArray[np.int64]
    pv_index: npt.NDArray[np.int64]
    bus_index: npt.NDArray[np.int64]
    unused_loads: int

    def set_powers(self, meter_kw: npt.ArrayLike, pv_kw: npt.ArrayLike, power_factor: float) -> None:
        """Set the buildings' loads and PV in ``net`` (arrays in ``meter_ids`` order) [kW]."""
        meter_mw = np.asarray(meter_kw, dtype=np.float64) / 1000.0
        self.net.load.loc[self.load_index, "p_mw"] = meter_mw
        self.net.load.loc[self.load_index, "q_mvar"] = reactive_power(meter_mw, power_factor)
        self.net.sgen.loc[self.pv_index, "p_mw"] = np.asarray(pv_kw, dtype=np.float64) / 1000.0


def place_buildings(net: pp.pandapowerNet, meter_ids: Sequence[str], name: str = "") -> PlacedFeeder:
    """Put ``meter_ids`` (in this order) on the first loads of ``net`` (modified in place); returns the placement.

    Every load is set to 0 MW / 0 Mvar at constant power; each building gets a PV static
    generator (unity power factor) at its load's bus.

    Raises
    ------
    TooManyMetersError
        If there are more meters than loads.
    """
    loads = net.load.index.to_numpy()
    if len(meter_ids) > len(loads):
        raise TooManyMetersError(
            f"{len(meter_ids)} meters but feeder '{name or net.name}' has only {len(loads)} loads")
    net.load["p_mw"] = 0.0
    net.load["q_mvar"] = 0.0
    for column in ("const_z_p_percent", "const_i_p_percent", "const_z_q_percent", "const_i_q_percent"):
        if column in net.load:
            net.load[column] = 0.0
    load_index = loads[: len(meter_ids)].astype(np.int64)
    bus_index = net.load.loc[load_index, "bus"].to_numpy(dtype=np.int64)
    pv_index = np.array([pp.create_sgen(net, int(bus), p_mw=0.0, q_mvar=0.0, name=f"PV {meter_id}", type="PV")
                         for bus, meter_id in zip(bus_index, meter_ids, strict=True)], dtype=np.int64)
    return PlacedFeeder(name=name or str(net.name), net=net, meter_ids=tuple(meter_ids), load_index=load_index,
                        pv_index=pv_index, bus_index=bus_index, unused_loads=len(loads) - len(meter_ids))
