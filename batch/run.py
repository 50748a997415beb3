"""Run a batch job: prepare the output folder, hand the day tasks to an executor, show progress, tidy up.

Executors: :mod:`batch.local` (worker processes on this machine) or, with a scheduler
address, :mod:`batch.cluster` (Dask distributed). Both run :func:`batch.tasks.write_day`,
so the files are the same bytes either way.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

from batch.cluster import run_on_dask
from batch.files import fsync_folders, remove_temporaries
from batch.local import run_locally
from batch.progress import DayProgress
from batch.tasks import BatchJob
from models.battery import BatterySpec
from models.plan import RunPlan
from models.pv.profile import PvProfile
from store.format import OutputError

log = logging.getLogger(__name__)


def run_batch(plan: RunPlan, output_dir: Path, pv_profile: PvProfile, workers: int = 1,
              scheduler_address: str | None = None, battery: BatterySpec | None = None,
              initial_soc_kwh: float = 0.0, dc_capacity_kw: float | None = None) -> int:
    """Write every day file of ``plan`` under ``output_dir``; returns the rows written. Logs progress.

    With a ``battery`` (starting at ``initial_soc_kwh`` [kWh]) each meter is one task, its days in order, since
    the battery's state carries across days; otherwise each day is one task. With ``scheduler_address`` the
    tasks run on that Dask cluster (``output_dir`` must be a shared filesystem at the same path on every
    worker), otherwise in ``workers`` local processes. ``dc_capacity_kw`` [kWp], the PV's DC capacity, gives
    the day summaries its specific yield (None: no yield). Raises :class:`OutputError` naming the path if a
    file cannot be written, and :class:`batch.cluster.ClusterError` if the cluster cannot run the job.
    """
    run_id = uuid.uuid4().hex[:12]
    output_dir = output_dir.absolute()
    marker = output_dir / ".pvsim" / "batch" / run_id
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError as error:
        raise OutputError(f"cannot write {marker.parent}: {error.strerror or error}") from error
    job = BatchJob(plan, output_dir, pv_profile, marker, battery, initial_soc_kwh, dc_capacity_kw)
    progress = DayProgress(job.tasks, unit="days" if battery is None else "meters")
    try:
        for rows in _days_written(job, workers, scheduler_address, run_id):
            progress.day_written(rows)
        try:
            fsync_folders([*job.meter_dirs(), output_dir])
        except OSError as error:
            raise OutputError(f"cannot sync {output_dir}: {error.strerror or error}") from error
    finally:
        progress.close()
        marker.unlink(missing_ok=True)
        removed = remove_temporaries(job.meter_dirs())
        if removed:
            log.info("removed %d temporary file(s) left by killed task attempts", removed)
    return progress.rows


def _days_written(job: BatchJob, workers: int, scheduler_address: str | None, run_id: str) -> Iterator[int]:
    if scheduler_address is None:
        return run_locally(job, workers)
    return run_on_dask(job, scheduler_address, run_id)
