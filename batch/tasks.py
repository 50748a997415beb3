"""The work of a batch run as tasks: one task writes one local day of every meter, or, with a battery (whose
state carries from one reading to the next, across days), every day of one meter.

A task depends only on its :class:`BatchJob` and its day index, never on other tasks
or on the process it runs in, so any executor (a local process pool, Dask workers on
other machines) can run it, and running it again rewrites the same bytes. The files are
byte-identical to what the broker pipeline writes for the same settings (rows in
timestamp order): the readings come from the same :class:`~models.plan.RunPlan` and the
rows from the same model chain (:class:`~models.chain.ModelChain`) and formatting
(:func:`~store.format.format_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from batch.files import replace_atomically
from common.clock import LocalDay
from models.balance import DayTotals
from models.battery import BatteryDevice, BatterySpec
from models.battery_summary import device_day_fields
from models.chain import ModelChain
from models.plan import RunPlan
from models.pv.profile import PvProfile
from store.format import BATTERY_HEADER, HEADER, OutputError, format_rows, row_timestamps, summary_json
from store.layout import day_path, summary_beside


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
    battery: BatterySpec | None = None
    """The battery of every meter (None: no battery)."""
    initial_soc_kwh: float = 0.0
    """Its state of charge before the first reading [kWh]."""
    dc_capacity_kw: float | None = None
    """The PV's DC capacity for the summaries' specific yield [kWp] (None: not known, no yield)."""

    @property
    def tasks(self) -> int:
        """How many tasks the run has: one per day, or one per meter with a battery."""
        return self.plan.days if self.battery is None else len(self.plan.meter_ids)

    def task_keys(self) -> list[str]:
        """A readable name of each task, by index."""
        if self.battery is None:
            return [f"day-{day.isoformat()}" for day in self.day_dates()]
        return [f"meter-{meter_id}" for meter_id in self.plan.meter_ids]

    def day_dates(self) -> list[date]:
        """The local date of each task, by day index (without building the plan's days)."""
        return [self.plan.first_day + timedelta(days=k) for k in range(self.plan.days)]

    def meter_dirs(self) -> list[Path]:
        """The folder of each meter's files."""
        return [self.output_dir / meter_id for meter_id in self.plan.meter_ids]


def run_task(job: BatchJob, index: int) -> int:
    """Run task ``index`` of ``job`` (see :attr:`BatchJob.tasks`); returns the rows written."""
    return write_day(job, index) if job.battery is None else write_meter(job, index)


def _check_marker(job: BatchJob) -> None:
    if not job.marker.exists():
        raise OutputError(f"{job.output_dir} on this worker is not the run's output folder ({job.marker.name} "
                          "missing): the output directory must be on a filesystem shared by every worker")


def write_day(job: BatchJob, index: int) -> int:
    """Write every meter's CSV and summary of day ``index`` (replacing existing files); returns rows written.

    The summary (``<date>.summary.json``) is the one the PV simulator writes when a run
    completes. Each file is replaced whole (see :mod:`batch.files`). Raises
    :class:`OutputError` naming the path if a file cannot be written or the output
    folder is not the run's (``marker`` missing: not a shared filesystem).
    """
    _check_marker(job)
    readings = job.plan.day(index)
    chain = ModelChain(job.pv_profile)
    for meter, meter_id in enumerate(job.plan.meter_ids):
        _write_meter_day(job, chain, meter_id, readings.day, readings.timestamps_s, readings.power_w[meter])
    return readings.timestamps_s.shape[0] * len(job.plan.meter_ids)


def write_meter(job: BatchJob, meter: int) -> int:
    """Write every day of meter index ``meter`` in order, its battery's state carried across midnight by the
    chain's battery device; returns rows written. Files and errors as :func:`write_day`."""
    _check_marker(job)
    assert job.battery is not None
    battery = BatteryDevice(job.battery, job.plan.interval_s, job.initial_soc_kwh)
    chain, rows = ModelChain(job.pv_profile, [battery]), 0
    for index in range(job.plan.days):
        readings = job.plan.day(index, meter)
        _write_meter_day(job, chain, job.plan.meter_ids[meter], readings.day, readings.timestamps_s,
                         readings.power_w[0], battery)
        rows += readings.timestamps_s.shape[0]
    return rows


def _write_meter_day(job: BatchJob, chain: ModelChain, meter_id: str, day: LocalDay, timestamps_s: np.ndarray,
                     power_w: np.ndarray, battery: BatteryDevice | None = None) -> None:
    """Run the chain over one meter-day and write its CSV and summary.

    With a battery the PV column is the PV fed after any curtailment, so that net = meter - PV + battery holds
    in every row as printed.
    """
    path = day_path(job.output_dir, meter_id, day.day)
    power = chain.run(day, timestamps_s, power_w)
    if battery is None:
        body = format_rows(meter_id, day, power.timestamps_s, power.meter_dw, power.pv_dw)
        totals = DayTotals.of_arrays(power.meter_dw, power.pv_dw, row_timestamps(body))
        header, figures = HEADER, None
    else:
        pv_fed_dw = power.pv_dw - battery.curtailed_dw
        body = format_rows(meter_id, day, power.timestamps_s, power.meter_dw, pv_fed_dw,
                           (battery.battery_dw, battery.soc_dw))
        totals = DayTotals.of_arrays(power.meter_dw, pv_fed_dw, row_timestamps(body), battery.battery_dw)
        header, figures = BATTERY_HEADER, device_day_fields(battery, power.meter_power_kw, power.pv_power_kw,
                                                            job.plan.interval_s)
    summary = totals.summary(meter_id, day.day.isoformat(), job.plan.interval_s, job.dc_capacity_kw)
    try:
        replace_atomically([(path, (header.encode(), body)), (summary_beside(path),
                                                              (summary_json(summary, figures).encode(),))])
    except OSError as error:
        raise OutputError(f"cannot write {error.filename or path}: {error.strerror or error}") from error
