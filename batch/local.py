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

from batch.tasks import BatchJob, run_task

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
    return run_task(_JOB, index)


def run_locally(job: BatchJob, workers: int) -> Iterator[int]:
    """Run every task of ``job`` (its days, or its meters with a battery) with ``workers`` processes (in this one
    if 1); yields rows per task, as done.

    Raises :class:`~store.format.OutputError` from the first task that fails.
    """
    tasks = job.tasks
    if workers == 1 or tasks == 1:
        for index in range(tasks):
            yield run_task(job, index)
        return
    with multiprocessing.get_context("fork").Pool(min(workers, tasks), _init_worker, (job,)) as pool:
        yield from pool.imap_unordered(_work, range(tasks))
