"""The building's model chain: (timestamps, meter power) -> PV power, devices, net power (pure, vectorised).

In the spirit of pvlib's ``ModelChain``: one object, built from the models of a building, whose
:meth:`ModelChain.run` reads as the steps in order:

1. **load**: the meter's power as given (the load models of :mod:`models.load` made it), rounded
   to 0.1 W, the resolution the day files keep;
2. **PV**: the PV model's power at each reading's local wall-clock second
   (:class:`~models.pv.profile.PvProfile`, one day computed once and kept for a few dates);
3. **devices**: each :class:`Device` behind the meter in turn (a home battery, later an EV charger or
   a heat pump), given what the building draws and the PV makes, adds its power;
4. **net**: ``net = meter - PV + sum(devices)``, positive = import from the grid.

Powers are integers of 0.1 W (``*_dw``): the chain's results are exact, and the CSV's
``net_power_kw`` is exactly ``meter_power_kw - pv_power_kw`` as printed. The ``*_kw`` properties of
:class:`BuildingPower` give them in kW for a notebook.

A device is added in one place: pass it in ``devices`` (see :class:`Device` for the hook's contract).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import numpy as np
import numpy.typing as npt

from common.clock import LocalDay
from models.pv.profile import PvProfile

IntArray = npt.NDArray[np.int64]

PV_DAYS_KEPT = 8
"""Dates whose PV power (one value per second, 86,400 ints) a chain keeps; the PV models cache them too."""


class Device(Protocol):
    """The hook for a device behind the meter: a battery, an EV charger, a heat pump.

    A device sees a day's readings in time order, after load and PV, and returns its power at
    each reading. It is called once per :meth:`ModelChain.run`, so a device with a state (a
    battery's charge) carries it from one call to the next itself; it must not log or do I/O.
    """

    def power_dw(self, day: LocalDay, timestamps_s: IntArray, meter_dw: IntArray, pv_dw: IntArray) -> IntArray:
        """Power of the device at each reading [0.1 W], shape ``(n,)``, positive while it draws (charging).

        Parameters
        ----------
        day : LocalDay
            The local day of the readings.
        timestamps_s : ndarray of int64, shape (n,)
            The readings' instants, epoch [s], increasing.
        meter_dw, pv_dw : ndarray of int64, shape (n,)
            The building's consumption and the PV power at each reading [0.1 W].
        """
        ...


@dataclass(frozen=True)
class BuildingPower:
    """What a building's chain computed for readings, each array of shape ``(n,)`` in 0.1 W units.

    ``net_dw`` = ``meter_dw - pv_dw + device_dw`` (positive = import); ``device_dw`` is 0 without devices.
    """

    timestamps_s: IntArray
    meter_dw: IntArray
    pv_dw: IntArray
    device_dw: IntArray
    net_dw: IntArray

    @property
    def meter_power_kw(self) -> npt.NDArray[np.float64]:
        """The building's consumption [kW]."""
        return self.meter_dw / 10_000

    @property
    def pv_power_kw(self) -> npt.NDArray[np.float64]:
        """PV AC power [kW]."""
        return self.pv_dw / 10_000

    @property
    def net_power_kw(self) -> npt.NDArray[np.float64]:
        """Power drawn from the grid [kW], negative when exported."""
        return self.net_dw / 10_000


class ModelChain:
    """A building: its PV model and the devices behind its meter.

    Parameters
    ----------
    pv : PvProfile
        The PV model (:func:`models.pv.registry.build_pv_profile` gives one by name).
    devices : sequence of Device
        Devices behind the meter, applied in order after PV (none by default).
    """

    def __init__(self, pv: PvProfile, devices: Sequence[Device] = ()) -> None:
        self.pv = pv
        self.devices = tuple(devices)
        self._pv_days: OrderedDict[date, tuple[tuple[int, ...], IntArray]] = OrderedDict()
        self._pv_tuples: dict[date, tuple[int, ...]] = {}  # the same days' tuples, for one reading's lookup

    def pv_day_dw(self, day: LocalDay) -> tuple[int, ...]:
        """PV power at each local wall-clock second 0..86,399 of ``day`` [0.1 W] (kept for :data:`PV_DAYS_KEPT`
        dates)."""
        return self._pv_day(day)[0]

    def _pv_day(self, day: LocalDay) -> tuple[tuple[int, ...], IntArray]:
        """:meth:`pv_day_dw` as a tuple (for one reading) and as an array (for many: made once per date, not by
        every meter)."""
        found = self._pv_days.get(day.day)
        if found is None:
            values = self.pv(day)
            array = np.asarray(values, dtype=np.int64)
            array.setflags(write=False)
            found = self._pv_days[day.day] = values, array
            self._pv_tuples[day.day] = values
            if len(self._pv_days) > PV_DAYS_KEPT:
                del self._pv_tuples[self._pv_days.popitem(last=False)[0]]
        return found

    def run(self, day: LocalDay, timestamps_s: npt.ArrayLike, power_w: npt.ArrayLike) -> BuildingPower:
        """Load, PV, devices and net power of one meter's readings within one local day.

        Parameters
        ----------
        day : LocalDay
            The local day holding every reading.
        timestamps_s : array of int, shape (n,)
            The readings' instants, epoch [s], increasing.
        power_w : array of float, shape (n,)
            The meter's power at each reading [W].

        Returns
        -------
        BuildingPower
            Meter power rounded half to even to 0.1 W, PV power of the reading's local wall-clock
            second, device power and net power [0.1 W].
        """
        stamps = np.asarray(timestamps_s, dtype=np.int64)
        meter_dw = np.rint(np.asarray(power_w, dtype=np.float64) * 10).astype(np.int64)
        pv_dw = self._pv_day(day)[1][day.wall_seconds(stamps)]
        device_dw = np.zeros_like(meter_dw)
        for device in self.devices:
            device_dw += device.power_dw(day, stamps, meter_dw, pv_dw)
        return BuildingPower(stamps, meter_dw, pv_dw, device_dw, meter_dw - pv_dw + device_dw)

    def reading(self, day: LocalDay, epoch_s: int, power_w: float) -> tuple[int, int]:
        """(meter, PV) power [0.1 W] of one reading at ``epoch_s`` (whole seconds) within ``day``: the same as
        :meth:`run` gives it, for readings that arrive one at a time (the PV simulator).

        Raises
        ------
        ValueError
            If the chain has devices: they need a day's readings in order (:meth:`run`).
        """
        if self.devices:
            raise ValueError("a chain with devices runs over a day's readings in order (ModelChain.run)")
        pv = self._pv_tuples.get(day.day)
        if pv is None:
            pv = self._pv_day(day)[0]
        return round(power_w * 10), pv[(epoch_s + day.offset_at_s(epoch_s)) % 86_400]
