"""Where grid results live in the output directory (shared by the command and the report, without pandapower)."""

from __future__ import annotations

import re
from pathlib import Path

GRID_DIR = "grid"
"""Subdirectory of the output directory holding grid results, ``<output>/grid/<feeder>/``; not a meter."""

_DAY_CSV = re.compile(r"\d{4}-\d\d-\d\d(\.buildings)?\.csv")


def is_grid_result(path: Path) -> bool:
    """Whether ``path`` is a grid result CSV (``<output>/grid/<feeder>/<YYYY-MM-DD>[.buildings].csv``)."""
    return path.parent.parent.name == GRID_DIR and _DAY_CSV.fullmatch(path.name) is not None


def is_grid_day(path: Path) -> bool:
    """Whether ``path`` is a feeder day CSV (``<output>/grid/<feeder>/<YYYY-MM-DD>.csv``), the file to plot."""
    return is_grid_result(path) and not path.name.endswith(".buildings.csv")
