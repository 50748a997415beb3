"""Where pvsim's files live under the output directory (one definition of each path).

- ``<output_dir>/<meter_id>/<YYYY-MM-DD>.csv``: a meter's day file (:func:`day_path`), its summary
  ``<YYYY-MM-DD>.summary.json`` beside it (:func:`summary_path`, :func:`summary_beside`).
- ``<output_dir>/grid/<feeder>/<YYYY-MM-DD>.csv``, ``.buildings.csv``, ``.summary.json``: a feeder's grid results
  (:func:`grid_dir`, :func:`grid_day_paths`); ``<output_dir>/grid/<feeder>/hosting-capacity/``: its
  hosting-capacity study (:func:`hosting_dir`).
- ``<output_dir>/sweeps/<name>/``: a batch sweep's results (:func:`sweep_dir`).

Dates are the site's local days, as the file names show them.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from common.order import natural_key

DAY_SUFFIX = ".csv"
"""A day file's suffix: ``<YYYY-MM-DD>.csv``."""
SUMMARY_SUFFIX = ".summary.json"
"""A day summary's suffix: ``<YYYY-MM-DD>.summary.json``, beside the day file."""
BUILDINGS_SUFFIX = ".buildings.csv"
"""A feeder day's per-building results: ``<YYYY-MM-DD>.buildings.csv``, beside the feeder's day file."""
GRID_DIR = "grid"
"""Subdirectory of the output directory holding grid results, ``<output>/grid/<feeder>/``; not a meter."""
SWEEPS_DIR = "sweeps"
"""Subdirectory of the output directory holding batch sweeps, ``<output>/sweeps/<name>/``."""
HOSTING_DIR = "hosting-capacity"
"""Subdirectory of a feeder's grid results holding its hosting-capacity study."""

_GRID_CSV = re.compile(r"\d{4}-\d\d-\d\d(\.buildings)?\.csv")


def day_name(day: date) -> str:
    """The file name of a local day's file, ``<YYYY-MM-DD>.csv``."""
    return day.isoformat() + DAY_SUFFIX


def day_path(output_dir: Path, meter_id: str, day: date) -> Path:
    """Where the day file of a meter and local day is (or will be): ``<output_dir>/<meter_id>/<YYYY-MM-DD>.csv``."""
    return output_dir / meter_id / day_name(day)


def summary_path(directory: Path, day: date | str) -> Path:
    """The summary of ``day`` (a date, or its ``YYYY-MM-DD`` text) in ``directory``:
    ``<directory>/<YYYY-MM-DD>.summary.json``."""
    return directory / f"{day}{SUMMARY_SUFFIX}"


def summary_beside(csv_path: Path) -> Path:
    """The summary beside a day file (a meter's or a feeder's): ``<YYYY-MM-DD>.csv`` ->
    ``<YYYY-MM-DD>.summary.json``."""
    return csv_path.with_name(csv_path.name.removesuffix(DAY_SUFFIX) + SUMMARY_SUFFIX)


def grid_dir(output_dir: Path, feeder: str) -> Path:
    """Where a feeder's result files go: ``<output_dir>/grid/<feeder>/``."""
    return output_dir / GRID_DIR / feeder


def grid_day_paths(directory: Path, day: date) -> tuple[Path, Path, Path]:
    """A feeder day's three files in its :func:`grid_dir`: the feeder CSV, the buildings CSV and the summary."""
    return directory / day_name(day), directory / (day.isoformat() + BUILDINGS_SUFFIX), summary_path(directory, day)


def hosting_dir(output_dir: Path, feeder: str) -> Path:
    """Where a feeder's hosting-capacity study goes: ``<output_dir>/grid/<feeder>/hosting-capacity/``."""
    return grid_dir(output_dir, feeder) / HOSTING_DIR


def sweep_dir(output_dir: Path, name: str) -> Path:
    """Where a batch sweep's results go: ``<output_dir>/sweeps/<name>/``."""
    return output_dir / SWEEPS_DIR / name


def is_grid_result(path: Path) -> bool:
    """Whether ``path`` is a grid result CSV (``<output>/grid/<feeder>/<YYYY-MM-DD>[.buildings].csv``)."""
    return path.parent.parent.name == GRID_DIR and _GRID_CSV.fullmatch(path.name) is not None


def is_grid_day(path: Path) -> bool:
    """Whether ``path`` is a feeder day CSV (``<output>/grid/<feeder>/<YYYY-MM-DD>.csv``), the file to plot."""
    return is_grid_result(path) and not path.name.endswith(BUILDINGS_SUFFIX)


def find_csvs(root: Path) -> list[Path]:
    """``root`` if it is a file, else every ``*.csv`` below it, outside hidden directories.

    Sorted in natural order (``meter-2/`` before ``meter-10/``), the order ``python -m grid`` places meters in.
    """
    if root.is_file():
        return [root]
    return sorted(
        (path for path in root.rglob("*" + DAY_SUFFIX)
         if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parent.parts)),
        key=lambda path: [natural_key(part) for part in path.relative_to(root).parts],
    )
