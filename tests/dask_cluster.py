"""A real Dask cluster for tests: a ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1.

Everything runs from the virtualenv's ``dask`` command with pvsim on ``PYTHONPATH``
(scheduler and workers unpickle pvsim's task arguments). The scheduler picks a free
port (``--port 0``) and writes its address to a scheduler file, which the workers read.
Each process starts in its own session, so killing a worker's process group takes its
nanny and the worker process it runs, as when a machine dies.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from distributed import Client

ROOT = Path(__file__).resolve().parent.parent
DASK = str(Path(sys.executable).parent / "dask")


class DaskCluster:
    """A scheduler and ``workers`` single-threaded workers, logs under ``folder``; use as a context manager.

    ``env`` is added to every process's environment.
    """

    def __init__(self, folder: Path, workers: int = 2, env: dict[str, str] | None = None) -> None:
        self.folder = folder
        self.scheduler_file = folder / "scheduler.json"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PVSIM_", "DASK_"))}
        self.env["PYTHONPATH"] = str(ROOT)
        self.env.update(env or {})  # e.g. Dask configuration: DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=false
        self._logs: list[IO[bytes]] = []
        self.workers: list[subprocess.Popen[bytes]] = []
        self.scheduler = self._start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0",
                                     "--dashboard-address", "127.0.0.1:0", "--scheduler-file",
                                     str(self.scheduler_file))
        try:
            self.address = self._wait_for_address()
            for n in range(workers):
                self.workers.append(self._start(f"worker-{n}", "worker", "--scheduler-file", str(self.scheduler_file),
                                                "--host", "127.0.0.1", "--nthreads", "1", "--no-dashboard",
                                                "--name", f"w{n}"))
            with self.client() as client:
                client.wait_for_workers(workers, timeout=120)
        except BaseException:
            self.close()
            raise

    def _start(self, log_name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.folder / f"{log_name}.log", "wb")  # noqa: SIM115
        self._logs.append(log)
        return subprocess.Popen([DASK, *args], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def _wait_for_address(self, timeout_s: float = 60) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.scheduler.poll() is not None:
                raise RuntimeError(f"dask scheduler exited: {(self.folder / 'scheduler.log').read_text()}")
            try:
                return str(json.loads(self.scheduler_file.read_text())["address"])
            except (FileNotFoundError, json.JSONDecodeError, KeyError):
                time.sleep(0.1)
        raise TimeoutError("dask scheduler did not write its address")

    def client(self) -> Client:
        """A client of the scheduler (close it; ``with cluster.client() as client``)."""
        return Client(self.address, timeout=30, set_as_default=False)

    def kill_worker(self, index: int) -> None:
        """SIGKILL worker ``index`` with its nanny's whole process group, and reap it."""
        _signal_group(self.workers[index], signal.SIGKILL)
        self.workers[index].wait(timeout=30)

    def log(self, name: str) -> str:
        """Text of a process's log (``scheduler``, ``worker-0``, ...)."""
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def close(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL after 10 s) and close the logs."""
        processes = [*self.workers, self.scheduler]
        for process in processes:
            _signal_group(process, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout=10)
        for log in self._logs:
            log.close()

    def __enter__(self) -> DaskCluster:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    """Send ``signum`` to the process group ``process`` leads (its session), if any of it is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)
