"""A feeder day from the meters' day CSVs to the grid result files: read, solve, summarise, write."""

from __future__ import annotations

import logging
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from grid.feeders import cached_feeder
from grid.inputs import load_day_inputs
from grid.output import write_day
from grid.snapshot import PowerFlowDiverged
from grid.summary import summarize_day
from grid.timeseries import solve_day
from store import format as csv_text
from store.format import OutputError
from store.layout import grid_dir

log = logging.getLogger(__name__)


def solve_day_files(output_dir: Path, day: date, feeder: str, tz: ZoneInfo, resolution_s: int = 60,
                    power_factor: float = 0.95, meter_ids: list[str] | None = None) -> list[Path]:
    """Solve ``feeder`` for ``day`` with every meter's CSV in ``output_dir`` and write the grid files.

    ``meter_ids`` restricts the meters (default: every meter with a CSV of ``day``).
    Returns the paths written (feeder CSV, buildings CSV, summary JSON).

    Raises
    ------
    grid.inputs.InputError
        A missing or unreadable meter CSV.
    grid.feeders.UnknownFeederError, grid.buildings.TooManyMetersError, grid.buildings.BadPowerFactorError,
    grid.snapshot.PowerFlowDiverged
        Bad settings for this data, or a power flow that does not converge.
    store.format.OutputError
        A result file cannot be written (nothing is left half-written).
    """
    started = time.monotonic()
    inputs = load_day_inputs(output_dir, day, tz, resolution_s, meter_ids)
    read_s = time.monotonic() - started
    loads = len(cached_feeder(feeder).load)
    if len(inputs.meter_ids) < loads:
        log.info("feeder %s: %d meters on its first %d of %d loads; the other %d loads carry nothing",
                 feeder, len(inputs.meter_ids), len(inputs.meter_ids), loads, loads - len(inputs.meter_ids))
    log.info("read %d meters' %s in %.2f s; solving %d intervals of %d s on %s", len(inputs.meter_ids), day, read_s,
             inputs.meter_kw.shape[0], resolution_s, feeder)
    solve_started = time.monotonic()
    try:
        result = solve_day(feeder, inputs.meter_ids, inputs.meter_kw, inputs.pv_kw, power_factor)
    except PowerFlowDiverged as error:
        if error.interval is None:
            raise
        at = csv_text.join_rows([csv_text.timestamps(inputs.day, inputs.interval_starts_s[[error.interval]])])
        raise PowerFlowDiverged(f"{error} (the interval starting {at.decode().strip()})", error.interval) from None
    solve_s = time.monotonic() - solve_started
    timestamps = csv_text.timestamps(inputs.day, inputs.interval_starts_s)
    labels = bytes(csv_text.join_rows([timestamps])).decode().splitlines()
    summary = summarize_day(result, labels, resolution_s, day.isoformat())
    paths = write_day(grid_dir(output_dir, feeder), inputs, result, summary)
    log.info("grid %s %s: %d intervals x %d buildings (read %.2f s, solve %.2f s, total %.2f s); "
             "vm %.4f-%.4f pu, %.1f min outside 0.9-1.1 pu, trafo peak %.1f %%, imported %.2f kWh, exported %.2f kWh"
             " -> %s", feeder, day, result.steps, len(result.meter_ids), read_s, solve_s,
             time.monotonic() - started, summary["vm_min_pu"], summary["vm_max_pu"], summary["minutes_outside_band"],
             summary["trafo_loading_max_percent"], summary["imported_kwh"], summary["exported_kwh"], paths[0])
    return paths


def solve_days(output_dir: Path, first_day: date, days: int, feeder: str, tz: ZoneInfo, resolution_s: int = 60,
               power_factor: float = 0.95, meter_ids: list[str] | None = None) -> int:
    """:func:`solve_day_files` for ``days`` consecutive days, as a command step; returns the exit code.

    0 when every day is written; 2 with one line on stderr for bad input (missing or
    unreadable CSVs, more meters than loads, no convergence); 1 if a result cannot be
    written. Used by ``python -m grid`` and ``python -m batch --feeder``.
    """
    for offset in range(days):
        try:
            solve_day_files(output_dir, first_day + timedelta(days=offset), feeder, tz, resolution_s, power_factor,
                            meter_ids)
        except ValueError as error:  # InputError, TooManyMetersError, PowerFlowDiverged, ...
            print(f"grid: error: {error}", file=sys.stderr)
            return 2
        except OutputError as error:
            print(f"grid: error: {error}", file=sys.stderr)
            return 1
    return 0
