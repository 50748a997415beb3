"""Plot a feeder day: the voltage band of the low-voltage buses and the loading of transformer and lines.

Called by ``python -m pv_simulator.report --plot`` for ``<output>/grid/<feeder>/<YYYY-MM-DD>.csv``
(the PNG goes beside it). Imports neither pandapower nor power-grid-model.
"""

from __future__ import annotations

import json
from datetime import timedelta, timezone
from pathlib import Path

import pandas as pd

from store.layout import is_grid_day, summary_beside

__all__ = ["is_grid_day", "plot_grid_day"]

VM_BAND_PU = (0.9, 1.1)  # EN 50160, low voltage


def plot_grid_day(csv_path: Path, png_path: Path) -> Path:
    """Draw a feeder day CSV; returns ``png_path``.

    Top: the range of bus voltages (min to max over the low-voltage buses) [pu] with the
    EN 50160 band 0.9–1.1 pu. Bottom: transformer and most loaded line [%] with 100 %.
    The title gives the summary (``<date>.summary.json`` beside the CSV) when present.
    Raises ValueError if the CSV has no rows or not the grid columns.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import DateFormatter, HourLocator
    from matplotlib.figure import Figure

    frame = pd.read_csv(csv_path, dtype={"timestamp": str})
    needed = {"timestamp", "vm_min_pu", "vm_max_pu", "trafo_loading_percent", "line_loading_max_percent"}
    if frame.empty or not needed <= set(frame.columns):
        raise ValueError(f"{csv_path}: not a grid day CSV with rows")
    utc = pd.to_datetime(frame["timestamp"], format="ISO8601", utc=True)
    offset = pd.Timestamp(frame["timestamp"].iloc[0]).utcoffset() or timedelta(0)
    local = utc.dt.tz_convert(timezone(offset)).dt.tz_localize(None)
    midnight = local.iloc[0].normalize()

    figure = Figure(figsize=(11, 7), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    voltage, loading = figure.subplots(2, 1, sharex=True)
    voltage.fill_between(local, frame["vm_min_pu"], frame["vm_max_pu"], color="#1f77b4", alpha=0.35, linewidth=0,
                         label="bus voltages (min–max)")
    voltage.plot(local, frame["vm_max_pu"], color="#1f77b4", linewidth=0.6)
    voltage.plot(local, frame["vm_min_pu"], color="#1f77b4", linewidth=0.6)
    for limit in VM_BAND_PU:
        voltage.axhline(limit, color="#d62728", linestyle="--", linewidth=1.0)
    voltage.axhline(1.0, color="black", linewidth=0.5, alpha=0.5)
    voltage.set_ylim(min(float(frame["vm_min_pu"].min()), VM_BAND_PU[0]) - 0.02,
                     max(float(frame["vm_max_pu"].max()), VM_BAND_PU[1]) + 0.02)
    voltage.set_ylabel("voltage [pu]")
    voltage.legend(loc="upper left", frameon=False, fontsize="small",
                   title="EN 50160 band 0.9–1.1 pu dashed", title_fontsize="small")

    loading.plot(local, frame["trafo_loading_percent"], color="#9467bd", linewidth=1.0, label="transformer")
    loading.plot(local, frame["line_loading_max_percent"], color="#ff7f0e", linewidth=1.0, label="most loaded line")
    loading.axhline(100.0, color="#d62728", linestyle="--", linewidth=1.0)
    loading.set_ylim(0, max(110.0, float(frame[["trafo_loading_percent", "line_loading_max_percent"]].max().max())
                            * 1.05))
    loading.set_ylabel("loading [%]")
    loading.legend(loc="upper left", frameon=False, fontsize="small", ncols=2)

    loading.set_xlim(midnight, midnight + pd.Timedelta(hours=24))
    loading.xaxis.set_major_locator(HourLocator(byhour=range(0, 24, 3)))
    loading.xaxis.set_minor_locator(HourLocator())
    loading.xaxis.set_major_formatter(DateFormatter("%H:%M"))
    hours, minutes = divmod(int(offset.total_seconds()) // 60, 60)
    loading.set_xlabel(f"local time (UTC{'+' if offset >= timedelta(0) else '-'}{abs(hours):02d}:{minutes:02d})")
    for axes in (voltage, loading):
        axes.grid(True, which="major", alpha=0.4)
        axes.grid(True, which="minor", alpha=0.15)

    title = f"feeder {csv_path.parent.name} — {midnight.date().isoformat()} ({midnight.day_name()})"
    summary_path = summary_beside(csv_path)
    if summary_path.is_file():
        s = json.loads(summary_path.read_text())
        title += (f", {s['buildings']} buildings\nvoltage {s['vm_min_pu']:.3f}–{s['vm_max_pu']:.3f} pu · "
                  f"{s['minutes_outside_band']:g} min outside 0.9–1.1 pu · transformer peak "
                  f"{s['trafo_loading_max_percent']:.0f} % · import {s['imported_kwh']:.1f} kWh · export "
                  f"{s['exported_kwh']:.1f} kWh · losses {s['losses_kwh']:.1f} kWh")
    voltage.set_title(title, fontsize="medium")
    figure.savefig(png_path)
    return png_path
