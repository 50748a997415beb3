"""Energy balance of day CSVs: :func:`summarize_csv` reads a day CSV (:func:`store.reader.read_day_csv`)
and :func:`write_summary_json` stores a summary beside it as ``<YYYY-MM-DD>.summary.json``.

The balance itself is pure and lives in :mod:`models.balance` (re-exported here).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from models.balance import DaySummary, DayTotals, summarize
from store.format import summary_json
from store.layout import summary_path
from store.reader import read_day_csv

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DaySummary", "DayTotals", "infer_interval_s", "summarize", "summarize_csv", "write_summary_json"]

DEFAULT_INTERVAL_S = 1.0
"""Interval assumed for a CSV with fewer than two readings [s]."""


def infer_interval_s(utc: pd.Series) -> float:
    """Reading interval [s]: the median step between successive instants, or 1 s for < 2 readings."""
    if len(utc) < 2:
        return DEFAULT_INTERVAL_S
    steps_s = np.diff(utc.to_numpy(dtype="datetime64[ms]").astype(np.int64)) / 1000.0
    step = float(np.median(steps_s))
    return step if step > 0 else DEFAULT_INTERVAL_S


def summarize_csv(path: str | os.PathLike[str], dc_capacity_kw: float | None = None) -> DaySummary:
    """Energy balance of one day CSV (``<output>/<meter_id>/<YYYY-MM-DD>.csv``).

    Parameters
    ----------
    path : path-like
        The CSV, with the header of :data:`store.format.HEADER`.
    dc_capacity_kw : float, optional
        The PV system's DC capacity [kWp], > 0, for ``specific_yield_kwh_per_kwp`` (None: not known).

    Returns
    -------
    DaySummary
        As :func:`summarize`, with the interval inferred by :func:`infer_interval_s`,
        net power recomputed as meter − PV (+ battery, in a file with a battery), and the meter id of the
        first row.

    Raises
    ------
    OSError, ValueError
        As :func:`read_day_csv`; ValueError also for ``dc_capacity_kw`` not > 0.
    """
    return summarize_frame(read_day_csv(path), dc_capacity_kw)


def summarize_frame(frame: pd.DataFrame, dc_capacity_kw: float | None = None) -> DaySummary:
    """:func:`summarize_csv` of a day already read with :func:`read_day_csv`."""
    meter_id = str(frame["meter_id"].iloc[0]) if len(frame) else None
    return summarize(
        frame["timestamp"].to_numpy(dtype=str),
        frame["meter_power_kw"].to_numpy(dtype=np.float64),
        frame["pv_power_kw"].to_numpy(dtype=np.float64),
        infer_interval_s(frame["utc"]),
        meter_id=meter_id,
        device_kw=frame["battery_power_kw"].to_numpy(dtype=np.float64) if "battery_power_kw" in frame else None,
        dc_capacity_kw=dc_capacity_kw,
    )


def write_summary_json(summary: DaySummary, directory: str | os.PathLike[str],
                       battery: dict[str, float | None] | None = None) -> Path:
    """Write ``summary`` as ``<directory>/<YYYY-MM-DD>.summary.json``; returns that path.

    Parameters
    ----------
    summary : DaySummary
        The day's summary; its ``day`` names the file.
    directory : path-like
        Folder to write into, normally the meter's folder beside the day's CSV;
        created if missing.
    battery : dict, optional
        The day's battery figures (:func:`models.battery_summary.battery_day_fields`), written as ``"battery"``.

    Returns
    -------
    pathlib.Path
        The file written: UTF-8 JSON of the :class:`DaySummary` fields (``null`` for
        None), replaced atomically so a reader never sees a partial file.

    Raises
    ------
    ValueError
        If the summary has no ``day`` (no readings).
    OSError
        If the file cannot be written.
    """
    if summary.day is None:
        raise ValueError("cannot name the summary file of a day without readings")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = summary_path(folder, summary.day)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(summary_json(summary, battery), encoding="utf-8")
    os.replace(partial, path)
    return path
