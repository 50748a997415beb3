"""The work of a batch run as tasks: one task writes one local day of every meter.

A task depends only on its :class:`BatchJob` and its day index, never on other tasks
or on the process it runs in, so any executor (a local process pool, Dask workers on
other machines) can run it, and running it again rewrites the same bytes. The files are
byte-identical to what the broker pipeline writes for the same settings (rows in
timestamp order): the readings come from the same :class:`~meter.plan.RunPlan` and the
rows from the same model chain (:class:`~models.chain.ModelChain`) and formatting
(:func:`~pv_simulator.writer.format_rows`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from batch.files import replace_atomically
from meter.plan import RunPlan
from models.balance import DayTotals
from models.chain import ModelChain
from models.pv.profile import PvProfile
from pv_simulator.summary import summary_json
from pv_simulator.writer import HEADER, OutputError, format_rows


@dataclass(frozen=True)
class BatchJob:
    """What every task of a run needs: the readings' plan, where files go, the PV model.

    ``output_dir`` is absolute, and on a cluster it must name the same shared folder on
    every worker; ``marker`` is a file the run created there, which a task checks for
    before writing, so a worker that sees another folder fails instead of writing
    where nobody looks.
    """

    plan: RunPlan
    output_dir: Path
    pv_profile: PvProfile
    marker: Path

    def day_dates(self) -> list[date]:
        """The local date of each task, by day index (without building the plan's days)."""
        return [self.plan.first_day + timedelta(days=k) for k in range(self.plan.days)]

    def meter_dirs(self) -> list[Path]:
        """The folder of each meter's files."""
        return [self.output_dir / meter_id for meter_id in self.plan.meter_ids]


def write_day(job: BatchJob, index: int) -> int:
    """Write every meter's CSV and summary of day ``index`` (replacing existing files); returns rows written.

    The summary (``<date>.summary.json``) is the one the PV simulator writes when a run
    completes. Each file is replaced whole (see :mod:`batch.files`). Raises
    :class:`OutputError` naming the path if a file cannot be written or the output
    folder is not the run's (``marker`` missing: not a shared filesystem).
    """
    if not job.marker.exists():
        raise OutputError(f"{job.output_dir} on this worker is not the run's output folder ({job.marker.name} "
                          "missing): the output directory must be on a filesystem shared by every worker")
    plan = job.plan
    readings = plan.day(index)
    day = readings.day
    chain = ModelChain(job.pv_profile)
    for meter, meter_id in enumerate(plan.meter_ids):
        path = job.output_dir / meter_id / f"{day.day.isoformat()}.csv"
        power = chain.run(day, readings.timestamps_s, readings.power_w[meter])
        body = format_rows(meter_id, day, power.timestamps_s, power.meter_dw, power.pv_dw)
        totals = DayTotals.of_arrays(power.meter_dw, power.pv_dw, _timestamps_of(body))
        summary = totals.summary(meter_id, day.day.isoformat(), plan.interval_s)
        try:
            replace_atomically([(path, (HEADER.encode(), body)),
                                (path.with_name(f"{summary.day}.summary.json"), (summary_json(summary).encode(),))])
        except OSError as error:
            raise OutputError(f"cannot write {error.filename or path}: {error.strerror or error}") from error
    return readings.timestamps_s.shape[0] * len(plan.meter_ids)


def _timestamps_of(body: bytes) -> Callable[[int], str]:
    """Row index -> timestamp text of CSV rows ``body``."""
    lines = body.split(b"\n")
    return lambda i: lines[i].split(b",", 1)[0].decode()
