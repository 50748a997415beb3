"""Run a batch job's day tasks in local worker processes (the default, without a Dask scheduler).

A forked process pool, the job handed over once per process: the cheapest way on one
machine. Dask workers on the same machine used about 1.7 times the CPU per day (task
hand-off, heartbeats, nannies) plus 0.12 cores while idle, so a ``LocalCluster`` would
only add cost here (``benchmarks/batch.py``; README, "Sweeps on Dask").
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Iterator

from batch.tasks import BatchJob, write_day

_JOB: BatchJob | None = None  # the run, set once per worker process


def _init_worker(job: BatchJob) -> None:
    global _JOB
    _JOB = job
    # A forked worker inherits the parent's Python signal handlers. If the parent installed one
    # for SIGTERM that only sets a flag (a service, a test harness), Pool.terminate()'s SIGTERM
    # would not end an idle worker and leaving the pool would hang on joining it.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _work(index: int) -> int:
    assert _JOB is not None
    return write_day(_JOB, index)


def run_locally(job: BatchJob, workers: int) -> Iterator[int]:
    """Write every day of ``job`` with ``workers`` processes (in this one if 1); yields rows per day, as done.

    Raises :class:`~pv_simulator.writer.OutputError` from the first day that fails.
    """
    days = job.plan.days
    if workers == 1 or days == 1:
        for index in range(days):
            yield write_day(job, index)
        return
    with multiprocessing.get_context("fork").Pool(min(workers, days), _init_worker, (job,)) as pool:
        yield from pool.imap_unordered(_work, range(days))
