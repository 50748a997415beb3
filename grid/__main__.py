"""``python -m grid``: the power flow of the meters' buildings on a feeder, for a day."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any

from common.cli import parse_settings, require_modules
from grid import REQUIRED_MODULES
from grid.settings import GridSettings

DESCRIPTION = (
    "Power flow of pvsim's buildings on a low-voltage feeder for one day: reads every meter's "
    "<output-dir>/<meter_id>/<date>.csv, averages it over --resolution-s, puts meter i (natural order of the ids: "
    "meter-2 before meter-10) on the i-th load of the feeder's load table (loads without a meter carry nothing) "
    "as a load at --power-factor plus its PV at unity power factor, solves every interval with power-grid-model "
    "and writes <output-dir>/grid/<feeder>/<date>.csv, <date>.buildings.csv and <date>.summary.json. "
    "Exit 2 on bad settings or input (missing or unreadable CSVs, more meters than loads), 1 if the output "
    "cannot be written. `python -m grid hosting-capacity --help`: the feeder's stochastic PV hosting capacity."
)

SUBCOMMANDS = {"hosting-capacity": "grid.hosting.run"}
"""``python -m grid <name> ...`` runs that module's ``main`` with the rest of the arguments."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (2: bad settings or input, 1: output failure)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in SUBCOMMANDS:
        module: Any = importlib.import_module(SUBCOMMANDS[args[0]])
        return int(module.main(args[1:]))
    settings = parse_settings(GridSettings, argv, "grid", DESCRIPTION)
    require_modules("grid", REQUIRED_MODULES, "requirements-grid.txt")
    from grid.run import solve_days

    settings.configure_logging()
    assert settings.feeder is not None
    return solve_days(settings.output_dir, settings.day(), 1, settings.feeder, settings.tz, settings.resolution_s,
                      settings.power_factor)


if __name__ == "__main__":
    sys.exit(main())
