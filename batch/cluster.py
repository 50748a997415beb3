"""Run a batch job's day tasks on a Dask distributed cluster (``--scheduler-address``).

The job is submitted once as a task of its own and every day task depends on it, so
each worker receives the plan once and a lost copy is rebuilt from its task. Task keys
carry the date and a run id (``pvsim-day-2026-06-21-<run>``): readable on the
dashboard, and a second run on the same scheduler writes its files again instead of
being answered from the first run's results. When a worker dies, the scheduler runs its
tasks again elsewhere (up to ``distributed.scheduler.allowed-failures``, default 3
deaths per task, then ``KilledWorker``); :mod:`batch.files` keeps each file whole.
Workers need the same pvsim code and requirements as the client, and the output
directory at the same path (a shared filesystem).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from batch.tasks import BatchJob, run_task
from store.format import OutputError

if TYPE_CHECKING:
    from distributed import Client

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 30
"""How long to try to reach the scheduler before giving up [s]."""


class ClusterError(RuntimeError):
    """The cluster cannot run the job: scheduler unreachable, or a task killed too many workers."""


def _the_job(job: BatchJob) -> BatchJob:
    return job


def dashboard_link(client: Client) -> str | None:
    """The scheduler's dashboard URL, or None if it serves none (no bokeh there, or ``--no-dashboard``)."""
    try:
        return client.dashboard_link  # type: ignore[no-any-return]
    except KeyError:
        return None


def run_on_dask(job: BatchJob, address: str, run_id: str) -> Iterator[int]:
    """Write every day of ``job`` on the cluster at ``address``; yields rows per day, as done.

    Raises :class:`ClusterError` if the scheduler cannot be reached within
    :data:`CONNECT_TIMEOUT_S` or a day's task killed too many workers, and
    :class:`~store.format.OutputError` from a day that cannot be written. Leaving
    early (an error, Ctrl-C) closes the client, which cancels the tasks not yet run.
    """
    from distributed import Client, KilledWorker, as_completed  # about 0.5 s and 40 MB: only for cluster runs

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError) as error:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {error}") from error
    with client:
        workers = client.scheduler_info(n_workers=-1)["workers"]
        threads = sum(worker["nthreads"] for worker in workers.values())
        log.info("Dask scheduler %s: %d worker(s), %d thread(s)%s; dashboard: %s", address, len(workers), threads,
                 "" if workers else " (tasks wait until workers join)",
                 dashboard_link(client) or "none (install bokeh on the scheduler)")
        # A plan that built its days carries megabytes of them; ship a fresh one (workers rebuild theirs).
        fresh = replace(job, plan=replace(job.plan))
        job_future = client.submit(_the_job, fresh, key=f"pvsim-job-{run_id}")
        keys = [f"pvsim-{name}-{run_id}" for name in job.task_keys()]
        futures = client.map(run_task, [job_future] * len(keys), range(len(keys)), key=keys)
        for future in as_completed(futures, loop=client.loop):
            try:
                rows = future.result()
            except KilledWorker as error:
                raise ClusterError(f"{future.key}: {error}") from error
            except OutputError:
                raise
            except Exception as error:  # e.g. a scheduler or worker without pvsim's code (a different image)
                log.debug("task %s failed", future.key, exc_info=True)
                raise ClusterError(f"{future.key} failed: {type(error).__name__}: {error}") from error
            yield rows
            future.release()
