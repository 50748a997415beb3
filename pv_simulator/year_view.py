"""Year view of one meter's day files: monthly energy bars and a carpet plot of net power.

``python -m pv_simulator.report <folder> --year-view`` draws, for each meter among the day
CSVs, ``<meter folder>/year.png``: monthly consumption, PV, grid import and export [kWh] as
bars, and net power (meter − PV, positive = import) [kW] as a carpet, day of year against
local time of day, averaged over 10-minute bins (red import, blue export, grey no reading).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from pv_simulator.summary import DaySummary

BIN_S = 600
"""Width of the carpet's time-of-day bins [s]."""
BINS_PER_DAY = 86_400 // BIN_S


def net_by_time_of_day(frame: pd.DataFrame) -> npt.NDArray[np.float64]:
    """Mean net power (meter − PV) of a day CSV's readings in each 10-minute bin of local wall-clock time [kW].

    Parameters
    ----------
    frame : pandas.DataFrame
        A day as :func:`store.reader.read_day_csv` returns it.

    Returns
    -------
    ndarray of float64, shape (144,)
        NaN where a bin holds no reading (the hour skipped when clocks go forward). The
        clock time is read from the local timestamps, so the repeated hour when clocks go
        back falls into the same bins as its twin.
    """
    wall = pd.to_datetime(frame["timestamp"].str.slice(0, 19), format="%Y-%m-%dT%H:%M:%S")
    seconds = ((wall - wall.dt.normalize()) // pd.Timedelta(seconds=1)).to_numpy(dtype=np.int64)
    net = (frame["meter_power_kw"] - frame["pv_power_kw"]).to_numpy(dtype=np.float64)
    bins = seconds // BIN_S
    total = np.bincount(bins, weights=net, minlength=BINS_PER_DAY)
    count = np.bincount(bins, minlength=BINS_PER_DAY)
    return np.divide(total, count, out=np.full(BINS_PER_DAY, np.nan), where=count > 0)


@dataclass(frozen=True)
class MeterYear:
    """One meter's days for the year view.

    Attributes
    ----------
    meter_id : str
        The meter.
    summaries : sequence of DaySummary
        One per day, in date order.
    net_kw : ndarray of float64, shape (days, 144)
        :func:`net_by_time_of_day` of each day [kW].
    """

    meter_id: str
    summaries: Sequence[DaySummary]
    net_kw: npt.NDArray[np.float64]

    def monthly_kwh(self) -> pd.DataFrame:
        """Energy per calendar month [kWh]: columns consumed, PV, import, export; index ``YYYY-MM``."""
        frame = pd.DataFrame({
            "month": [str(s.day)[:7] for s in self.summaries],
            "consumed": [s.consumed_kwh for s in self.summaries],
            "PV": [s.pv_kwh for s in self.summaries],
            "import": [s.imported_kwh for s in self.summaries],
            "export": [s.exported_kwh for s in self.summaries],
        })
        return frame.groupby("month", sort=True).sum()


def plot_year(year: MeterYear, png_path: Path, dc_capacity_kw: float | None = None) -> Path:
    """Draw the year view of ``year`` to ``png_path`` (Agg backend, no global state); returns the path.

    With ``dc_capacity_kw`` [kWp] the title gives the PV's specific yield [kWh/kWp] of the days shown.
    """
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.figure import Figure

    monthly = year.monthly_kwh()
    figure = Figure(figsize=(12, 9), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    bars, carpet = figure.subplots(2, 1, height_ratios=(1, 1.3))
    positions = np.arange(len(monthly))
    colours = {"consumed": "#1f77b4", "PV": "#ff9f0e", "import": "#d62728", "export": "#2ca02c"}
    for offset, (column, colour) in enumerate(colours.items()):
        bars.bar(positions + (offset - 1.5) * 0.2, monthly[column], width=0.2, color=colour, label=column)
    bars.set_xticks(positions, [pd.Timestamp(month).strftime("%b %Y") for month in monthly.index],
                    rotation=45 if len(monthly) > 12 else 0)
    bars.set_ylabel("energy per month [kWh]")
    bars.grid(True, axis="y", alpha=0.4)
    bars.legend(ncols=4, frameon=False, loc="upper left", fontsize="small")
    bars.margins(y=0.15)

    days = [pd.Timestamp(str(s.day)) for s in year.summaries]
    limit = float(np.nanmax(np.abs(year.net_kw))) if np.isfinite(year.net_kw).any() else 1.0
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-max(limit, 1e-3), vmax=max(limit, 1e-3))
    first, last = days[0], days[-1] + pd.Timedelta(days=1)
    image = carpet.imshow(year.net_kw.T, aspect="auto", origin="lower", norm=norm,
                          cmap=colormaps["RdBu_r"].with_extremes(bad="#bbbbbb"),
                          interpolation="nearest", extent=(first.day_of_year - 1, first.day_of_year - 1 + len(days),
                                                           0, 24))
    carpet.set_yticks(range(0, 25, 3), [f"{hour:02d}:00" for hour in range(0, 25, 3)])
    carpet.set_ylabel("local time of day")
    carpet.set_xlabel(f"day of year ({first.date().isoformat()} to {(last - pd.Timedelta(days=1)).date().isoformat()})")
    figure.colorbar(image, ax=carpet, label="net power, 10-min mean [kW] (red import, blue export)")

    totals = monthly.sum()
    title = (f"{year.meter_id}: {len(days)} days — consumed {totals['consumed']:.0f} kWh · PV {totals['PV']:.0f} kWh · "
             f"import {totals['import']:.0f} kWh · export {totals['export']:.0f} kWh")
    if dc_capacity_kw:
        title += f" · specific yield {totals['PV'] / dc_capacity_kw:.0f} kWh/kWp"
    bars.set_title(title, fontsize="medium")
    figure.savefig(png_path)
    return png_path
