"""Energy balance of one meter-day: consumption, PV, grid import and export, self-consumption, peaks (pure).

:func:`summarize` takes NumPy arrays and returns a frozen :class:`DaySummary`;
:class:`DayTotals` keeps the same balance as running integer totals while rows arrive (the day
files keep one per file) or builds it from whole arrays at once.

Energy is integrated with the rectangle rule: each reading stands for the
``interval_s`` seconds that follow it, so ``energy [kWh] = sum(power [kW]) * interval_s / 3600``.
Readings missing from a day simply add nothing (compare ``rows`` with the expected
count, 86,400 at 1 s, to spot gaps). Net power is meter − PV [kW], positive = import.

References
----------
.. [1] R. Luthander, J. Widén, D. Nilsson and J. Palm, "Photovoltaic self-consumption
   in buildings: A review", Applied Energy 142, 80-94, 2015 (definitions of
   self-consumption and self-sufficiency).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class DaySummary:
    """Energy balance of one meter over one local day.

    Energies [kWh] are rounded to 6 decimals, percentages [%] and powers [kW] to 4.
    Positive net power (meter − PV) is imported from the grid, negative is exported.
    """

    meter_id: str | None
    """Meter of the readings (None when not given)."""
    day: str | None
    """Local date of the readings, ``YYYY-MM-DD`` (None for no readings)."""
    rows: int
    """Number of readings."""
    interval_s: float
    """Time each reading stands for [s]."""
    consumed_kwh: float
    """Energy used by the building (meter) [kWh]."""
    pv_kwh: float
    """Energy produced by the PV system [kWh]."""
    imported_kwh: float
    """Energy drawn from the grid, sum of positive net power [kWh]."""
    exported_kwh: float
    """Energy fed into the grid, sum of negative net power, as a positive number [kWh]."""
    self_consumption_percent: float | None
    """Share of PV energy used on site, (PV − exported) / PV [%]; None when PV produced nothing."""
    self_sufficiency_percent: float | None
    """Share of consumption covered by PV (autarky), (consumed − imported) / consumed [%];
    None when nothing was consumed."""
    peak_import_kw: float
    """Highest net import [kW]; 0 when nothing was imported."""
    peak_import_at: str | None
    """Timestamp of the first reading at the import peak, as given; None when nothing was imported."""
    peak_export_kw: float
    """Highest net export, as a positive number [kW]; 0 when nothing was exported."""
    peak_export_at: str | None
    """Timestamp of the first reading at the export peak, as given; None when nothing was exported."""
    specific_yield_kwh_per_kwp: float | None = None
    """PV energy of the day per kWp of the PV system's DC capacity (STC nameplate), ``pv_kwh`` / DC capacity
    [kWh/kWp], rounded to 6 decimals; None when the DC capacity is not known (the ``reference`` model, a
    measured curve with no DC rating, and summaries written before this field existed)."""


def _percent(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 4) if whole > 0 else None


def _peak(power_kw: npt.NDArray[np.float64], timestamps: npt.NDArray[np.str_]) -> tuple[float, str | None]:
    """(largest positive value [kW], its first timestamp), or (0.0, None) if none is positive."""
    if power_kw.size == 0 or power_kw.max() <= 0:
        return 0.0, None
    at = int(np.argmax(power_kw))
    return round(float(power_kw[at]), 4), str(timestamps[at])


def summarize(
    timestamps: npt.ArrayLike,
    meter_kw: npt.ArrayLike,
    pv_kw: npt.ArrayLike,
    interval_s: float,
    meter_id: str | None = None,
    device_kw: npt.ArrayLike | None = None,
    dc_capacity_kw: float | None = None,
) -> DaySummary:
    """Energy balance of one meter-day from its readings.

    Parameters
    ----------
    timestamps : array of str, shape (n,)
        ISO 8601 local timestamps of the readings (as in the CSV); the first gives
        ``day``, and peaks are reported with them.
    meter_kw : array of float, shape (n,)
        Building consumption at each reading [kW].
    pv_kw : array of float, shape (n,)
        PV production at each reading [kW].
    interval_s : float
        Time each reading stands for [s], > 0.
    meter_id : str, optional
        Meter of the readings, copied to the summary.
    device_kw : array of float, shape (n,), optional
        Power of the devices behind the meter (a battery, positive while charging) [kW].
    dc_capacity_kw : float, optional
        DC capacity of the PV system at STC [kWp], > 0: gives ``specific_yield_kwh_per_kwp``
        (None when not given).

    Returns
    -------
    DaySummary
        Energies by the rectangle rule, ``sum(power) * interval_s / 3600`` [kWh];
        net power is ``meter_kw - pv_kw + device_kw`` [kW].

    Raises
    ------
    ValueError
        If the arrays differ in length, or ``interval_s`` or ``dc_capacity_kw`` is not positive.
    """
    stamps = np.asarray(timestamps, dtype=np.str_).ravel()
    meter = np.asarray(meter_kw, dtype=np.float64).ravel()
    pv = np.asarray(pv_kw, dtype=np.float64).ravel()
    if not stamps.shape == meter.shape == pv.shape:
        raise ValueError(f"timestamps, meter_kw and pv_kw differ in length: {stamps.size}, {meter.size}, {pv.size}")
    if not interval_s > 0:
        raise ValueError(f"interval_s must be > 0, got {interval_s}")
    net = meter - pv
    if device_kw is not None:  # rounded to the files' 0.1 W: three 4-decimal floats leave residues like -1e-16
        net = np.round(net + np.asarray(device_kw, dtype=np.float64).ravel(), 4)
    return _build(
        meter_id,
        str(stamps[0])[:10] if stamps.size else None,
        int(stamps.size),
        interval_s,
        (float(meter.sum()), float(pv.sum()), float(np.clip(net, 0.0, None).sum()),
         float(np.clip(-net, 0.0, None).sum())),
        _peak(net, stamps),
        _peak(-net, stamps),
        dc_capacity_kw,
    )


def _build(meter_id: str | None, day: str | None, rows: int, interval_s: float,
           sums_kw: tuple[float, float, float, float], peak_import: tuple[float, str | None],
           peak_export: tuple[float, str | None], dc_capacity_kw: float | None) -> DaySummary:
    """A :class:`DaySummary` from power sums [kW] (meter, PV, import, export), peaks and the DC capacity [kWp]."""
    if dc_capacity_kw is not None and not dc_capacity_kw > 0:
        raise ValueError(f"dc_capacity_kw must be > 0, got {dc_capacity_kw}")
    hours = interval_s / 3600.0
    consumed, produced, imported, exported = (total * hours for total in sums_kw)
    return DaySummary(
        meter_id=meter_id,
        day=day,
        rows=rows,
        interval_s=float(interval_s),
        consumed_kwh=round(consumed, 6),
        pv_kwh=round(produced, 6),
        imported_kwh=round(imported, 6),
        exported_kwh=round(exported, 6),
        self_consumption_percent=_percent(produced - exported, produced),
        self_sufficiency_percent=_percent(consumed - imported, consumed),
        peak_import_kw=round(peak_import[0], 4),
        peak_import_at=peak_import[1],
        peak_export_kw=round(peak_export[0], 4),
        peak_export_at=peak_export[1],
        specific_yield_kwh_per_kwp=None if dc_capacity_kw is None else round(produced / dc_capacity_kw, 6),
    )


def _text(timestamp: str | Callable[[], str]) -> str:
    return timestamp if isinstance(timestamp, str) else timestamp()


@dataclass
class DayTotals:
    """Running totals of a day file's rows, in integer 0.1 W units (exact), kept as rows are written.

    Gives the same :class:`DaySummary` as :func:`summarize` on the file (peaks: the
    first row at the peak in file order) without reading the file again.
    """

    rows: int = 0
    meter_dw: int = 0
    pv_dw: int = 0
    import_dw: int = 0
    export_dw: int = 0
    peak_import_dw: int = 0
    peak_import_at: str | None = None
    peak_export_dw: int = 0
    peak_export_at: str | None = None

    def add(self, timestamp: str | Callable[[], str], meter_dw: int, pv_dw: int) -> None:
        """Count one row: its timestamp text (or a function giving it, called only for a new peak), meter and
        PV power [0.1 W]."""
        net = meter_dw - pv_dw
        self.rows += 1
        self.meter_dw += meter_dw
        self.pv_dw += pv_dw
        if net > 0:
            self.import_dw += net
            if net > self.peak_import_dw:
                self.peak_import_dw, self.peak_import_at = net, _text(timestamp)
        elif net < 0:
            self.export_dw -= net
            if -net > self.peak_export_dw:
                self.peak_export_dw, self.peak_export_at = -net, _text(timestamp)

    @classmethod
    def of_arrays(cls, meter_dw: npt.NDArray[np.int64], pv_dw: npt.NDArray[np.int64],
                  timestamp_at: Callable[[int], str], device_dw: npt.NDArray[np.int64] | None = None) -> DayTotals:
        """The totals of whole rows at once (vectorised), the same as adding them one by one.

        ``meter_dw``, ``pv_dw``: (n,) powers in row order [0.1 W]; ``timestamp_at(i)``: the
        timestamp text of row ``i`` (asked only for the peaks); ``device_dw``: (n,) the power of the devices
        behind the meter (a battery, positive while charging), added to the net [0.1 W].
        """
        net = meter_dw - pv_dw if device_dw is None else meter_dw - pv_dw + device_dw
        totals = cls(rows=int(net.shape[0]), meter_dw=int(meter_dw.sum()), pv_dw=int(pv_dw.sum()),
                     import_dw=int(net[net > 0].sum()), export_dw=int(-net[net < 0].sum()))
        if totals.import_dw:
            at = int(np.argmax(net))
            totals.peak_import_dw, totals.peak_import_at = int(net[at]), timestamp_at(at)
        if totals.export_dw:
            at = int(np.argmin(net))
            totals.peak_export_dw, totals.peak_export_at = int(-net[at]), timestamp_at(at)
        return totals

    def summary(self, meter_id: str, day: str, interval_s: float, dc_capacity_kw: float | None = None) -> DaySummary:
        """The day's :class:`DaySummary`, each row standing for ``interval_s`` [s]; with the PV's DC capacity
        ``dc_capacity_kw`` [kWp] its specific yield. Raises :class:`ValueError` for a capacity not > 0."""
        to_kw = 1 / 10_000
        return _build(meter_id, day, self.rows, interval_s,
                      (self.meter_dw * to_kw, self.pv_dw * to_kw, self.import_dw * to_kw, self.export_dw * to_kw),
                      (self.peak_import_dw * to_kw, self.peak_import_at),
                      (self.peak_export_dw * to_kw, self.peak_export_at), dc_capacity_kw)
