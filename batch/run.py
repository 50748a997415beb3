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

from common.clock import LocalDay
from meter.plan import RunPlan
from pv_simulator.writer import HEADER, OutputError, format_day_rows

log = logging.getLogger(__name__)

PvProfile = Callable[[LocalDay], tuple[int, ...]]


def write_day(plan: RunPlan, index: int, output_dir: Path, pv_profile: PvProfile) -> int:
    """Write every meter's CSV of day ``index`` (replacing existing files atomically); returns rows written.

    Raises :class:`OutputError` naming the path if a file cannot be written.
    """
    readings = plan.day(index)
    pv_dw = pv_profile(readings.day)
    rows = 0
    for meter, meter_id in enumerate(plan.meter_ids):
        path = output_dir / meter_id / f"{readings.day.day.isoformat()}.csv"
        body = format_day_rows(meter_id, readings.day, readings.timestamps_s, readings.power_w[meter], pv_dw)
        temporary = path.with_name(path.name + ".tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with temporary.open("wb") as handle:
                handle.write(HEADER.encode())
                handle.write(body)
            os.replace(temporary, path)
        except OSError as error:
            raise OutputError(f"cannot write {path}: {error.strerror or error}") from error
        rows += readings.timestamps_s.shape[0]
    return rows


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
