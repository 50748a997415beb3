"""A home battery behind the meter: dispatch strategies as compiled recurrences over readings.

The battery sits between the building's meter (its consumption) and its PV, so the grid sees
``net = meter - PV + battery (+ curtailed)`` [kW], positive = import; the battery's power is positive
while it charges (a load). The state of charge of one reading depends on every earlier reading, so the
dispatch is a loop over time, compiled with numba: a year at 1 s (31.5 M readings) costs about half a
second of CPU (``python -m benchmarks.battery``); each process pays under a second to compile a strategy at
its first call (no on-disk cache: the services' code is read-only for their user). The state goes in and
out (``soc_kwh``) so that a run can carry it across midnight and across days.

Strategies are chosen by name from :data:`STRATEGIES` (one entry per strategy):

``self-consumption``
    The standard rule of residential PV storage: charge every surplus, discharge into every deficit,
    never from or to the grid (Weniger, Tjaden & Quaschning 2014; the reference case of HTW Berlin's
    Stromspeicher-Inspektion). Per reading of length Δt [h] with surplus s = PV − meter [kW]:
    if s > 0 charge c = min(s, P, (E − SoC) / (η·Δt)) and SoC += η·c·Δt;
    if s < 0 discharge d = min(−s, P, η·SoC / Δt) and SoC −= d·Δt / η.
``grid-friendly``
    Feed-in damping with a feed-in limit (Zeh & Witzmann 2014; the 50 % / 60 % of kWp limits of the
    German KfW 275 storage programme): export is capped at ``feed_in_limit_share`` × kWp and PV above
    the cap that the battery cannot take is curtailed (counted). Until ``charge_end_hour`` (local time)
    the battery charges only the surplus above the cap, or, if more, its free room spread evenly over
    the hours left to ``charge_end_hour`` (so it is not full before the midday peak); afterwards it
    charges every surplus. Discharge as in ``self-consumption``.

References
----------
.. [1] J. Weniger, T. Tjaden, V. Quaschning, "Sizing of residential PV battery systems",
   Energy Procedia 46 (2014) 78-87, doi:10.1016/j.egypro.2014.01.160.
.. [2] J. Weniger, N. Orth, L. Meissner, C. Schlüter, J. Meyne, V. Quaschning,
   "Stromspeicher-Inspektion 2024", HTW Berlin, https://solar.htw-berlin.de/studien/stromspeicher-inspektion-2024/.
.. [3] A. Zeh, R. Witzmann, "Operational strategies for battery storage systems in low-voltage distribution
   grids to limit the feed-in power of roof-mounted solar power systems", Energy Procedia 46 (2014)
   114-123, doi:10.1016/j.egypro.2014.01.164.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from common.clock import LocalDay

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DEFAULT_EFFICIENCY = 0.95
"""One-way efficiency of charging and of discharging [1]: HTW Berlin's calculator assumes 95 % for the battery [1]_."""


@dataclass(frozen=True)
class BatterySpec:
    """A battery and how it is run.

    Parameters
    ----------
    capacity_kwh : float
        Usable capacity E [kWh], > 0.
    power_kw : float or None
        Charge and discharge limit P [kW], > 0; ``None``: half the capacity (a 0.5 C battery).
    efficiency : float
        One-way efficiency η of charging and of discharging, in (0, 1] [1].
    strategy : str
        A name in :data:`STRATEGIES`.
    pv_kwp : float
        Peak power of the PV [kWp]; the feed-in limit of ``grid-friendly`` is a share of it.
    feed_in_limit_share : float
        ``grid-friendly``: the export cap as a share of ``pv_kwp`` [1] (0.5 in KfW 275 until 2016, then 0.6).
    charge_end_hour : float
        ``grid-friendly``: local hour [h] by which the battery should be full; after it, every surplus charges.

    Raises
    ------
    ValueError
        If a value is out of range or the strategy is unknown.
    """

    capacity_kwh: float
    power_kw: float | None = None
    efficiency: float = DEFAULT_EFFICIENCY
    strategy: str = "self-consumption"
    pv_kwp: float = 0.0
    feed_in_limit_share: float = 0.6
    charge_end_hour: float = 15.0

    def __post_init__(self) -> None:
        if not self.capacity_kwh > 0:
            raise ValueError(f"battery capacity must be > 0 kWh, not {self.capacity_kwh}")
        if self.power_kw is not None and not self.power_kw > 0:
            raise ValueError(f"battery power must be > 0 kW, not {self.power_kw}")
        if not 0 < self.efficiency <= 1:
            raise ValueError(f"battery efficiency must be in (0, 1], not {self.efficiency}")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown battery strategy '{self.strategy}' (known: {', '.join(STRATEGIES)})")
        if self.strategy == "grid-friendly" and not self.pv_kwp > 0:
            raise ValueError("the grid-friendly strategy needs the PV's peak power (pv_kwp > 0)")
        if not self.feed_in_limit_share >= 0:
            raise ValueError(f"feed-in limit share must be >= 0, not {self.feed_in_limit_share}")
        if not 0 <= self.charge_end_hour <= 24:
            raise ValueError(f"charge end hour must be in [0, 24], not {self.charge_end_hour}")

    @property
    def limit_kw(self) -> float:
        """Charge and discharge limit P [kW] (half the capacity unless given)."""
        return self.capacity_kwh / 2 if self.power_kw is None else self.power_kw


@dataclass(frozen=True)
class Dispatch:
    """What the battery did, one value per reading (arrays of shape ``(n,)``).

    Attributes
    ----------
    battery_power_kw : ndarray
        Mean power of the battery over each reading [kW], positive while charging.
    battery_soc_kwh : ndarray
        State of charge at the end of each reading [kWh].
    curtailed_kw : ndarray
        PV power curtailed to respect a feed-in limit [kW] (zeros without one).
    soc_kwh : float
        State of charge after the last reading [kWh], to start the next call with.
    """

    battery_power_kw: FloatArray
    battery_soc_kwh: FloatArray
    curtailed_kw: FloatArray
    soc_kwh: float


STRATEGIES = {
    "self-consumption": "charge every surplus, discharge into every deficit",
    "grid-friendly": "feed-in limit, charging saved for the midday peak, curtailment counted",
}
"""Dispatch strategies by name (see the module's docstring), each with a one-line description. The compiled
rule of each (how much to charge [kW] from a surplus [kW]) is in :mod:`models.battery_kernels`, imported at
the first :func:`dispatch` so that a process without a battery never loads numba."""


def dispatch(meter_power_kw: npt.ArrayLike, pv_power_kw: npt.ArrayLike, interval_s: npt.ArrayLike,
             spec: BatterySpec, soc_kwh: float = 0.0, local_hour: npt.ArrayLike | None = None) -> Dispatch:
    """Run the battery over consecutive readings, starting from ``soc_kwh``.

    Parameters
    ----------
    meter_power_kw : array_like, shape (n,)
        The building's consumption over each reading [kW] (>= 0).
    pv_power_kw : array_like, shape (n,)
        PV AC power over each reading [kW] (>= 0).
    interval_s : float or array_like, shape (n,)
        Length of each reading [s], > 0.
    spec : BatterySpec
        The battery and its strategy.
    soc_kwh : float
        State of charge before the first reading [kWh], in [0, capacity].
    local_hour : array_like, shape (n,), optional
        Local time of day of each reading [h] in [0, 24); needed by ``grid-friendly`` only.

    Returns
    -------
    Dispatch
        Battery power, state of charge and curtailment per reading, and the final state of charge.

    Raises
    ------
    ValueError
        If the shapes differ, an interval is not > 0, ``soc_kwh`` is outside [0, capacity], or
        ``local_hour`` is missing for a strategy that needs it.
    """
    meter = np.ascontiguousarray(meter_power_kw, dtype=np.float64)
    pv = np.ascontiguousarray(pv_power_kw, dtype=np.float64)
    if meter.ndim != 1 or meter.shape != pv.shape:
        raise ValueError(f"meter and PV power must be 1-D arrays of one shape, not {meter.shape} and {pv.shape}")
    # A scalar interval or hour stays a stride-0 view: a year at 1 s would otherwise add 250 MB per array.
    interval = np.asarray(interval_s, dtype=np.float64)
    if not np.all(interval > 0):
        raise ValueError("every interval must be > 0 s")
    dt_h = np.broadcast_to(interval / 3600.0, meter.shape)
    if not 0 <= soc_kwh <= spec.capacity_kwh:
        raise ValueError(f"state of charge {soc_kwh} kWh is outside [0, {spec.capacity_kwh}] kWh")
    if local_hour is None:
        if spec.strategy == "grid-friendly":
            raise ValueError("the grid-friendly strategy needs the local hour of each reading")
        local_hour = 0.0
    hour = np.broadcast_to(np.asarray(local_hour, dtype=np.float64), meter.shape)
    power = np.empty_like(meter)
    soc = np.empty_like(meter)
    curtailed = np.zeros(meter.shape)  # calloc'd: written only where PV is curtailed
    export_cap_kw = spec.feed_in_limit_share * spec.pv_kwp if spec.strategy == "grid-friendly" else np.inf
    from models import battery_kernels  # numba: loaded and compiled at the first dispatch, not at import

    final = battery_kernels.run(
        battery_kernels.STRATEGY_KERNELS[spec.strategy], meter, pv, dt_h, hour, float(spec.capacity_kwh),
        float(spec.limit_kw), float(spec.efficiency), float(soc_kwh), float(export_cap_kw), float(spec.charge_end_hour),
        power, soc, curtailed)
    return Dispatch(power, soc, curtailed, float(final))


class BatteryDevice:
    """A battery as a device of the building's model chain (:class:`models.chain.Device`), its state carried from
    one day's readings to the next.

    Parameters
    ----------
    spec : BatterySpec
        The battery and its strategy.
    interval_s : float
        Length of each reading [s].
    soc_kwh : float
        State of charge before the first reading [kWh].

    Attributes
    ----------
    soc_kwh : float
        State of charge after the last reading run so far [kWh].
    soc_dw : ndarray of int64
        State of charge at the end of each reading of the last day run [0.1 Wh], as the day files keep it.
    day_start_soc_kwh : float
        State of charge before the first reading of the last day run [kWh].
    battery_dw, curtailed_dw : ndarray of int64
        The battery's power and the PV curtailed at each reading of the last day run [0.1 W].
    """

    def __init__(self, spec: BatterySpec, interval_s: float, soc_kwh: float = 0.0) -> None:
        self.spec, self.interval_s, self.soc_kwh = spec, interval_s, soc_kwh
        self.day_start_soc_kwh = soc_kwh
        self.soc_dw: IntArray = np.zeros(0, dtype=np.int64)
        self.battery_dw: IntArray = np.zeros(0, dtype=np.int64)
        self.curtailed_dw: IntArray = np.zeros(0, dtype=np.int64)

    def power_dw(self, day: LocalDay, timestamps_s: IntArray, meter_dw: IntArray, pv_dw: IntArray) -> IntArray:
        """What the battery adds to the net at each reading [0.1 W]: its power (positive while charging) plus the
        PV it had curtailed (0 but for a feed-in limit); dispatched on the powers as the day files hold them
        (0.1 W), so a file's own columns reproduce it."""
        result = dispatch(meter_dw / 10_000, pv_dw / 10_000, self.interval_s, self.spec, self.soc_kwh,
                          day.wall_seconds(timestamps_s) / 3600)
        self.day_start_soc_kwh, self.soc_kwh = self.soc_kwh, result.soc_kwh
        self.soc_dw = np.rint(result.battery_soc_kwh * 10_000).astype(np.int64)
        self.battery_dw = np.rint(result.battery_power_kw * 10_000).astype(np.int64)
        self.curtailed_dw = np.rint(result.curtailed_kw * 10_000).astype(np.int64)
        return self.battery_dw + self.curtailed_dw
