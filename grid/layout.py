"""Names and places of grid things, importable without pandapower (settings, report, batch).

The feeders' names (built in :mod:`grid.feeders`) and where results live in the output directory.
"""

from __future__ import annotations

import re
from pathlib import Path

SEED = "seed"
SIMBENCH_LV = ("1-LV-rural1", "1-LV-rural2", "1-LV-rural3", "1-LV-semiurb4", "1-LV-semiurb5", "1-LV-urban6")
"""The six SimBench low-voltage grids (13, 99, 118, 41, 104 and 111 loads)."""
FEEDER_NAMES = (SEED, *SIMBENCH_LV)



def check_feeder_name(name: str) -> str:
    """``name`` if it is a feeder (:data:`FEEDER_NAMES`); raises ``ValueError`` naming the available ones."""
    if name not in FEEDER_NAMES:
        raise ValueError(f"unknown feeder '{name}' (available: {', '.join(FEEDER_NAMES)})")
    return name


GRID_DIR = "grid"
"""Subdirectory of the output directory holding grid results, ``<output>/grid/<feeder>/``; not a meter."""

_DAY_CSV = re.compile(r"\d{4}-\d\d-\d\d(\.buildings)?\.csv")


def is_grid_result(path: Path) -> bool:
    """Whether ``path`` is a grid result CSV (``<output>/grid/<feeder>/<YYYY-MM-DD>[.buildings].csv``)."""
    return path.parent.parent.name == GRID_DIR and _DAY_CSV.fullmatch(path.name) is not None


def is_grid_day(path: Path) -> bool:
    """Whether ``path`` is a feeder day CSV (``<output>/grid/<feeder>/<YYYY-MM-DD>.csv``), the file to plot."""
    return is_grid_result(path) and not path.name.endswith(".buildings.csv")
