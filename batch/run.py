"""Write the day CSVs of a whole run without a broker, day by day in worker processes.

The files are byte-identical to what the broker pipeline writes for the same
settings (rows in timestamp order), because the readings come from the same
:class:`~meter.plan.RunPlan` and the rows from the same formatting
(:func:`~pv_simulator.writer.format_day_rows`). Memory stays flat: a worker holds
one day at a time.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from meter.plan import RunPlan
from pv_simulator.summary import DayTotals, write_summary_json
from pv_simulator.writer import HEADER, OutputError, PvProfile, format_day_rows

log = logging.getLogger(__name__)

def write_day(plan: RunPlan, index: int, output_dir: Path, pv_profile: PvProfile) -> int:
    """Write every meter's CSV and summary of day ``index`` (replacing existing files); returns rows written.

    The summary (``<date>.summary.json``) is the one the PV simulator writes when a run
    completes. Raises :class:`OutputError` naming the path if a file cannot be written.
    """
    readings = plan.day(index)
    day = readings.day
    pv_dw = pv_profile(day)
    pv_row_dw = np.asarray(pv_dw, dtype=np.int64)[day.wall_seconds(readings.timestamps_s)]
    for meter, meter_id in enumerate(plan.meter_ids):
        path = output_dir / meter_id / f"{day.day.isoformat()}.csv"
        body = format_day_rows(meter_id, day, readings.timestamps_s, readings.power_w[meter], pv_dw)
        meter_dw = np.rint(readings.power_w[meter] * 10).astype(np.int64)
        totals = DayTotals.of_arrays(meter_dw, pv_row_dw, _timestamps_of(body))
        temporary = path.with_name(path.name + ".tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with temporary.open("wb") as handle:
                handle.write(HEADER.encode())
                handle.write(body)
            os.replace(temporary, path)
            write_summary_json(totals.summary(meter_id, day.day.isoformat(), plan.interval_s), path.parent)
        except OSError as error:
            raise OutputError(f"cannot write {path}: {error.strerror or error}") from error
    return readings.timestamps_s.shape[0] * len(plan.meter_ids)


def _timestamps_of(body: bytes) -> Callable[[int], str]:
    """Row index -> timestamp text of CSV rows ``body``."""
    lines = body.split(b"\n")
    return lambda i: lines[i].split(b",", 1)[0].decode()


_JOB: tuple[RunPlan, Path, PvProfile] | None = None  # the run, set once per worker process


def _init_worker(plan: RunPlan, output_dir: Path, pv_profile: PvProfile) -> None:
    global _JOB
    _JOB = (plan, output_dir, pv_profile)


def _work(index: int) -> int:
    assert _JOB is not None
    plan, output_dir, pv_profile = _JOB
    return write_day(plan, index, output_dir, pv_profile)


def run_batch(plan: RunPlan, output_dir: Path, pv_profile: PvProfile, workers: int) -> int:
    """Write the whole run with ``workers`` processes; returns the rows written. Logs progress."""
    started = time.monotonic()
    rows = 0
    step = max(1, plan.days // 10)
    if workers == 1 or plan.days == 1:
        _init_worker(plan, output_dir, pv_profile)
        results = map(_work, range(plan.days))
        pool = None
    else:
        pool = multiprocessing.get_context("fork").Pool(workers, _init_worker, (plan, output_dir, pv_profile))
        results = pool.imap(_work, range(plan.days))
    try:
        for done, written in enumerate(results, start=1):
            rows += written
            if done % step == 0 or done == plan.days:
                elapsed = time.monotonic() - started
                log.info("%d of %d days written (%d rows, %.0f rows/s)", done, plan.days, rows,
                         rows / max(elapsed, 1e-9))
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    return rows
