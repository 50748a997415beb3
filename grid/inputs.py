"""The buildings' inputs: pvsim's meter day CSVs, averaged over the power-flow intervals.

Reads ``<output_dir>/<meter_id>/<YYYY-MM-DD>.csv`` (header
``timestamp,meter_id,meter_power_kw,pv_power_kw,net_power_kw``, local timestamps with
their UTC offset, rows in any order) into (T, B) arrays: the mean meter and PV power of
each building over each interval of ``resolution_s`` from local midnight. A reading stands
for the time until the next one, so an interval without a reading of its own (readings
coarser than the intervals, or a gap) holds the previous reading.

Each file is read by the store's vectorised reader, :func:`store.reader.read_meter_day`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from common.clock import LocalDay
from common.order import natural_order
from store.layout import DAY_SUFFIX, GRID_DIR, day_name, day_path
from store.reader import DayFileError, read_meter_day

log = logging.getLogger(__name__)

InputError = DayFileError
"""A meter CSV is missing or unreadable (:class:`store.reader.DayFileError`); the message names the file
(and the line)."""


@dataclass(frozen=True)
class DayInputs:
    """The buildings of one local day at ``resolution_s``.

    ``meter_kw`` / ``pv_kw``: (T, B) mean meter and PV power per interval [kW], columns in
    ``meter_ids`` order (natural order); interval ``k`` starts at epoch second
    ``day.start_s + k · resolution_s``.
    """

    day: LocalDay
    resolution_s: int
    meter_ids: tuple[str, ...]
    meter_kw: npt.NDArray[np.float64]
    pv_kw: npt.NDArray[np.float64]

    @property
    def interval_starts_s(self) -> npt.NDArray[np.int64]:
        """Epoch seconds [s] of the start of each interval, (T,)."""
        return self.day.timestamps_s(self.resolution_s)


def find_meters(output_dir: Path, day: date) -> list[str]:
    """Meter ids (natural order) with a CSV of ``day`` in ``output_dir``.

    A meter is a subdirectory holding day CSVs (not hidden, not ``grid``).

    Raises
    ------
    InputError
        If the directory does not exist, no meter has a CSV of ``day``, or a meter that
        has other days lacks this one.
    """
    if not output_dir.is_dir():
        raise InputError(f"output directory {output_dir} does not exist")
    meters = [d.name for d in output_dir.iterdir()
              if d.is_dir() and not d.name.startswith(".") and d.name != GRID_DIR and any(d.glob("*" + DAY_SUFFIX))]
    name = day_name(day)
    missing = [m for m in meters if not (output_dir / m / name).is_file()]
    present = natural_order(set(meters) - set(missing))
    if not present:
        raise InputError(f"no meter CSVs for {day.isoformat()} in {output_dir}")
    if missing:
        raise InputError(f"missing {name} for {', '.join(natural_order(missing))} in {output_dir}")
    return present

def average_intervals(epoch_s: npt.NDArray[np.int64], values: npt.NDArray[np.float64], day: LocalDay,
                      resolution_s: int) -> tuple[npt.NDArray[np.float64], int]:
    """Mean of ``values`` (n, k) per interval of ``resolution_s`` from local midnight -> (T, k), and how many
    intervals held the previous reading (no reading of their own).

    Raises :class:`InputError` if the first interval has no reading (nothing to hold).
    """
    steps = -(-day.length_s // resolution_s)
    bucket = (epoch_s - day.start_s) // resolution_s
    counts = np.bincount(bucket, minlength=steps)
    means = np.empty((steps, values.shape[1]))
    for column in range(values.shape[1]):
        means[:, column] = np.bincount(bucket, weights=values[:, column], minlength=steps)
    filled = counts > 0
    if not filled[0]:
        raise InputError("no reading in the first interval of the day")
    means[filled] /= counts[filled, None]
    held = int(steps - filled.sum())
    if held:
        last = np.maximum.accumulate(np.where(filled, np.arange(steps), 0))
        means = means[last]
    return means, held


def load_day_inputs(output_dir: Path, day: date, tz: ZoneInfo, resolution_s: int,
                    meter_ids: list[str] | None = None) -> DayInputs:
    """Every meter's (or ``meter_ids``') CSV of ``day`` averaged to ``resolution_s`` [s] intervals.

    Raises
    ------
    InputError
        A missing or unreadable CSV (the message names it).
    """
    local = LocalDay(day, tz)
    meters = natural_order(meter_ids) if meter_ids is not None else find_meters(output_dir, day)
    steps = -(-local.length_s // resolution_s)
    meter_kw = np.empty((steps, len(meters)))
    pv_kw = np.empty((steps, len(meters)))
    for column, meter_id in enumerate(meters):
        path = day_path(output_dir, meter_id, day)
        if not path.is_file():
            raise InputError(f"missing {path}")
        epoch_s, powers = read_meter_day(path, meter_id, local)
        try:
            means, held = average_intervals(epoch_s, powers, local, resolution_s)
        except InputError as error:
            raise InputError(f"{path}: {error}") from None
        if held:
            log.info("%s: %d of %d intervals have no reading of their own and hold the previous one",
                     meter_id, held, steps)
        meter_kw[:, column] = means[:, 0]
        pv_kw[:, column] = means[:, 1]
    return DayInputs(day=local, resolution_s=resolution_s, meter_ids=tuple(meters), meter_kw=meter_kw, pv_kw=pv_kw)
