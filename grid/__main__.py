"""``python -m grid``: the power flow of the meters' buildings on a feeder, for a day."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from common.cli import parse_settings
from grid.output import OutputError
from grid.run import solve_day_files
from grid.settings import GridSettings

log = logging.getLogger("grid")

DESCRIPTION = (
    "Power flow of pvsim's buildings on a low-voltage feeder for one day: reads every meter's "
    "<output-dir>/<meter_id>/<date>.csv, averages it over --resolution-s, puts meter i (natural order of the ids: "
    "meter-2 before meter-10) on the i-th load of the feeder's load table (loads without a meter carry nothing) "
    "as a load at --power-factor plus its PV at unity power factor, solves every interval with power-grid-model "
    "and writes <output-dir>/grid/<feeder>/<date>.csv, <date>.buildings.csv and <date>.summary.json. "
    "Exit 2 on bad settings or input (missing or unreadable CSVs, more meters than loads), 1 if the output "
    "cannot be written."
)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (2: bad settings or input, 1: output failure)."""
    settings = parse_settings(GridSettings, argv, "grid", DESCRIPTION)
    settings.configure_logging()
    try:
        solve_day_files(settings.output_dir, settings.day(), settings.feeder, settings.tz, settings.resolution_s,
                        settings.power_factor)
    except ValueError as error:  # InputError, TooManyMetersError, PowerFlowDiverged, ...
        print(f"grid: error: {error}", file=sys.stderr)
        return 2
    except OutputError as error:
        print(f"grid: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
