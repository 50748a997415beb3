"""Report on day CSVs: a table of each meter-day's energy balance, and optional plots.

Usage::

    python -m pv_simulator.report output/            # every *.csv under output/
    python -m pv_simulator.report output/m1/2026-06-21.csv --plot

Prints one row per meter-day (see :class:`pv_simulator.summary.DaySummary`); with
``--plot`` also writes ``<YYYY-MM-DD>.png`` beside each CSV, and beside each grid
result day (``<output>/grid/<feeder>/<YYYY-MM-DD>.csv``, see :mod:`grid.report`). Exit status: 0 when every
file was read, 1 when some could not be, 2 for a missing path or bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta, timezone
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from pv_simulator.summary import DaySummary, summarize_frame
from store.layout import find_csvs, is_grid_day, is_grid_result
from store.reader import read_day_csv

# (header, width, value of a summary): units in the header, the values in plain numbers.
TABLE = (
    ("meter", 10, lambda s: s.meter_id or "-"),
    ("date", 10, lambda s: s.day or "-"),
    ("rows", 6, lambda s: f"{s.rows}"),
    ("step [s]", 8, lambda s: f"{s.interval_s:g}"),
    ("consumed [kWh]", 14, lambda s: f"{s.consumed_kwh:.3f}"),
    ("PV [kWh]", 9, lambda s: f"{s.pv_kwh:.3f}"),
    ("import [kWh]", 12, lambda s: f"{s.imported_kwh:.3f}"),
    ("export [kWh]", 12, lambda s: f"{s.exported_kwh:.3f}"),
    ("self-cons. [%]", 14, lambda s: _optional(s.self_consumption_percent)),
    ("autarky [%]", 11, lambda s: _optional(s.self_sufficiency_percent)),
    ("peak import [kW]", 16, lambda s: f"{s.peak_import_kw:.3f}"),
    ("at", 8, lambda s: _clock(s.peak_import_at)),
    ("peak export [kW]", 16, lambda s: f"{s.peak_export_kw:.3f}"),
    ("at", 8, lambda s: _clock(s.peak_export_at)),
)


def _optional(percent: float | None) -> str:
    return "-" if percent is None else f"{percent:.1f}"


def _clock(timestamp: str | None) -> str:
    """``HH:MM:SS`` local time of an ISO 8601 timestamp, or ``-``."""
    return "-" if timestamp is None else timestamp[11:19]


def format_table(summaries: Iterable[DaySummary], dc_capacity_kw: float | None = None) -> str:
    """Plain-text table, one line per summary under a header with units; text columns left-aligned.

    With ``dc_capacity_kw`` [kWp], a last column gives the PV's specific yield of the day [kWh/kWp].
    """
    table: tuple[tuple[str, int, Callable[[DaySummary], str]], ...] = TABLE
    if dc_capacity_kw:
        table = (*TABLE, ("yield [kWh/kWp]", 15, lambda s: f"{s.pv_kwh / dc_capacity_kw:.3f}"))

    def cells(values: Sequence[str]) -> str:
        return "  ".join(
            value.ljust(width) if index < 2 else value.rjust(width)
            for index, (value, (_, width, _)) in enumerate(zip(values, table, strict=True))
        ).rstrip()

    lines = [cells([header for header, _, _ in table])]
    lines += [cells([render(summary) for _, _, render in table]) for summary in summaries]
    return "\n".join(lines) + "\n"


def plot_day(csv_path: Path, png_path: Path, summary: DaySummary | None = None) -> Path:
    """Draw a day CSV: meter, PV and net power [kW] against local time (and a battery's power and state of charge,
    if the file has one); returns ``png_path``.

    The axis shows local wall-clock time at the UTC offset of the day's first reading
    (on the day clocks change, the hours after the change are shifted by an hour).
    Import (net > 0) is shaded red, export (net < 0) green. Rendered with the Agg
    backend on a standalone figure (no pyplot, no global state).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import DateFormatter, HourLocator
    from matplotlib.figure import Figure

    frame = read_day_csv(csv_path)
    if frame.empty:
        raise ValueError(f"{csv_path}: no readings to plot")
    offset = pd.Timestamp(frame["timestamp"].iloc[0]).utcoffset() or timedelta(0)
    local = frame["utc"].dt.tz_convert(timezone(offset)).dt.tz_localize(None)
    midnight = local.iloc[0].normalize()
    battery = "battery_power_kw" in frame
    net = frame["meter_power_kw"] - frame["pv_power_kw"] + (frame["battery_power_kw"] if battery else 0)

    figure = Figure(figsize=(11, 5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.fill_between(local, net, 0, where=net > 0, color="#d62728", alpha=0.15, linewidth=0, label="import")
    axes.fill_between(local, net, 0, where=net < 0, color="#2ca02c", alpha=0.25, linewidth=0, label="export")
    axes.plot(local, frame["meter_power_kw"], color="#1f77b4", linewidth=0.6, label="meter (consumption)")
    axes.plot(local, frame["pv_power_kw"], color="#ff9f0e", linewidth=2.0, label="PV (production)")
    axes.plot(local, net, color="#333333", linewidth=0.6, alpha=0.8,
              label="net = meter − PV + battery" if battery else "net = meter − PV")
    axes.axhline(0.0, color="black", linewidth=1.0)
    if battery:  # its power beside the others, its charge on a second axis
        axes.plot(local, frame["battery_power_kw"], color="#9467bd", linewidth=0.8, label="battery (+ charging)")
        charge = axes.twinx()
        charge.plot(local, frame["battery_soc_kwh"], color="#9467bd", linewidth=1.5, linestyle="--")
        charge.set_ylabel("battery state of charge [kWh] (dashed)")
        charge.set_ylim(0, max(float(frame["battery_soc_kwh"].max()), 1e-3) * 1.15)

    axes.set_xlim(midnight, midnight + pd.Timedelta(hours=24))
    axes.xaxis.set_major_locator(HourLocator(byhour=range(0, 24, 3)))
    axes.xaxis.set_minor_locator(HourLocator())
    axes.xaxis.set_major_formatter(DateFormatter("%H:%M"))
    axes.grid(True, which="major", alpha=0.4)
    axes.grid(True, which="minor", alpha=0.15)
    hours, minutes = divmod(int(offset.total_seconds()) // 60, 60)
    axes.set_xlabel(f"local time (UTC{'+' if offset >= timedelta(0) else '-'}{abs(hours):02d}:{minutes:02d})")
    axes.set_ylabel("power [kW]")
    axes.legend(loc="upper left", ncols=5, frameon=False, fontsize="small")
    axes.margins(y=0.12)

    meter_id = frame["meter_id"].iloc[0]
    title = f"{meter_id} — {midnight.date().isoformat()} ({midnight.day_name()})"
    if summary is not None:
        title += (f"\nconsumed {summary.consumed_kwh:.1f} kWh · PV {summary.pv_kwh:.1f} kWh · "
                  f"import {summary.imported_kwh:.1f} kWh · export {summary.exported_kwh:.1f} kWh · "
                  f"self-consumption {_optional(summary.self_consumption_percent)} % · "
                  f"autarky {_optional(summary.self_sufficiency_percent)} %")
    axes.set_title(title, fontsize="medium")
    figure.savefig(png_path)
    return png_path


def plot_grid_days(paths: Iterable[Path]) -> int:
    """Plot each feeder day CSV among ``paths`` (see :mod:`grid.report`); returns how many failed."""
    from grid.report import plot_grid_day

    failed = 0
    for path in paths:
        if not is_grid_day(path):
            continue
        try:
            print(f"report: wrote {plot_grid_day(path, path.with_suffix('.png'))}", file=sys.stderr)
        except (OSError, ValueError) as error:
            print(f"report: skipping {path}: {error}", file=sys.stderr)
            failed += 1
    return failed


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m pv_simulator.report``."""
    parser = argparse.ArgumentParser(
        prog="python -m pv_simulator.report",
        description="Summarise pvsim day CSVs: one row per meter-day with energy consumed, PV produced, "
                    "grid import and export [kWh], self-consumption and autarky [%], and import/export peaks [kW].",
        epilog="Exit status: 0 all files read, 1 some files unreadable, 2 missing path.",
    )
    parser.add_argument("path", type=Path,
                        help="a day CSV (<output>/<meter_id>/<YYYY-MM-DD>.csv) or a directory searched "
                             "recursively for *.csv (hidden directories such as .pvsim are skipped)")
    parser.add_argument("--year-view", action="store_true",
                        help="also write <meter folder>/year.png for each meter: monthly consumption, PV, import "
                             "and export [kWh] as bars and a carpet of net power [kW], day of year x time of day")
    parser.add_argument("--dc-capacity-kw", type=float, default=None,
                        help="the PV's DC capacity [kWp]: adds its specific yield [kWh/kWp] to the table and the "
                             "year view")
    parser.add_argument("--plot", action="store_true",
                        help="also write <YYYY-MM-DD>.png beside each CSV: meter, PV and net power [kW] "
                             "over the day against local time; for grid results (<output>/grid/<feeder>/) the "
                             "voltage band [pu] and transformer and line loading [%%]")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the report; returns the exit status."""
    args = build_parser().parse_args(argv)
    if not args.path.exists():
        print(f"report: {args.path}: no such file or directory", file=sys.stderr)
        return 2
    paths = find_csvs(args.path)
    if not paths:
        print(f"report: no *.csv found under {args.path}", file=sys.stderr)
        return 1
    grid_days = [path for path in paths if is_grid_result(path)]  # output/grid/<feeder>/: plotted, not tabled
    paths = [path for path in paths if path not in grid_days]
    failed = plot_grid_days(grid_days) if args.plot else 0
    if args.dc_capacity_kw is not None and not args.dc_capacity_kw > 0:
        print(f"report: --dc-capacity-kw must be > 0, got {args.dc_capacity_kw}", file=sys.stderr)
        return 2
    summaries = []
    carpets: dict[str, list[tuple[DaySummary, npt.NDArray[np.float64]]]] = {}
    for path in paths:
        try:
            frame = read_day_csv(path)
            summary = summarize_frame(frame)
            if args.plot and summary.rows:
                print(f"report: wrote {plot_day(path, path.with_suffix('.png'), summary)}", file=sys.stderr)
            if args.year_view and summary.rows:
                from pv_simulator.year_view import net_by_time_of_day

                carpets.setdefault(str(path.parent), []).append((summary, net_by_time_of_day(frame)))
        except (OSError, ValueError) as error:
            print(f"report: skipping {path}: {error}", file=sys.stderr)
            failed += 1
            continue
        summaries.append(summary)
    sys.stdout.write(format_table(summaries, args.dc_capacity_kw))
    for folder, days in carpets.items():
        failed += _write_year_view(Path(folder), days, args.dc_capacity_kw)
    return 1 if failed else 0


def _write_year_view(folder: Path, days: list[tuple[DaySummary, npt.NDArray[np.float64]]],
                     dc_capacity_kw: float | None) -> int:
    """Draw ``folder/year.png`` from one meter's days (summary, net by time of day); returns 1 on failure."""
    from pv_simulator.year_view import MeterYear, plot_year

    days = sorted(days, key=lambda day: str(day[0].day))
    year = MeterYear(str(days[0][0].meter_id), [summary for summary, _ in days], np.stack([net for _, net in days]))
    try:
        print(f"report: wrote {plot_year(year, folder / 'year.png', dc_capacity_kw)}", file=sys.stderr)
    except (OSError, ValueError) as error:
        print(f"report: no year view for {folder}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
