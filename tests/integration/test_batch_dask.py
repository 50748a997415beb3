"""Batch mode on a real Dask cluster (a scheduler and two worker processes on 127.0.0.1).

The files must be the bytes a local run writes, and a worker killed mid-run must not
cost a file or leave one torn, doubled or half-written.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from batch.__main__ import main
from tests.conftest import ROOT
from tests.dask_cluster import DaskCluster

pytestmark = [pytest.mark.slow]

SWEEP = ("--date", "2026-03-28", "--days", "4", "--meters", "2", "--interval-s", "60", "--seed", "7")
# Long enough per day (about 0.5 s) that a worker can be killed while it holds one.
HEAVY = ("--date", "2026-10-23", "--days", "6", "--meters", "4", "--interval-s", "1", "--seed", "3")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[DaskCluster]:
    folder = tmp_path / "cluster"
    folder.mkdir()
    with DaskCluster(folder, workers=2) as running:
        yield running


def _batch_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PVSIM_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def _files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) by relative path -> bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _assert_same_as_local(output: Path, local: Path, days: int, meters: int) -> None:
    written, expected = _files(output), _files(local)
    assert len(expected) == 2 * days * meters  # a CSV and a summary per meter and day, nothing else
    assert sorted(written) == sorted(expected)  # no temporary files, no run marker left
    for name, data in expected.items():
        assert written[name] == data, name


def test_dask_run_writes_the_bytes_of_a_local_run(cluster: DaskCluster, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "batch", *SWEEP, "--output-dir", str(tmp_path / "dask")],
                          cwd=ROOT, env=_batch_env(PVSIM_SCHEDULER_ADDRESS=cluster.address), capture_output=True,
                          text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    assert main([*SWEEP, "--workers", "1", "--output-dir", str(tmp_path / "local")]) == 0
    _assert_same_as_local(tmp_path / "dask", tmp_path / "local", days=4, meters=2)
    assert f"Dask scheduler {cluster.address}: 2 worker(s), 2 thread(s); dashboard: http://127.0.0.1:" in done.stderr
    assert "4 of 4 days written (11400 rows" in done.stderr  # 2026-03-29 is 23 hours long in Berlin
    with cluster.client() as client:  # both workers took part
        assert {w["name"] for w in client.scheduler_info()["workers"].values()} == {"w0", "w1"}


def test_dask_run_with_a_battery_runs_a_task_per_meter_and_writes_the_local_bytes(cluster: DaskCluster,
                                                                                  tmp_path: Path) -> None:
    battery = ("--battery-kwh", "5", "--battery-initial-soc-percent", "40", "--pv-model", "clearsky")
    done = subprocess.run([sys.executable, "-m", "batch", *SWEEP, *battery, "--output-dir", str(tmp_path / "dask")],
                          cwd=ROOT, env=_batch_env(PVSIM_SCHEDULER_ADDRESS=cluster.address), capture_output=True,
                          text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    assert main([*SWEEP, *battery, "--workers", "1", "--output-dir", str(tmp_path / "local")]) == 0
    _assert_same_as_local(tmp_path / "dask", tmp_path / "local", days=4, meters=2)
    assert "2 of 2 meters written (11400 rows" in done.stderr
    assert b"battery_soc_kwh" in (tmp_path / "dask" / "meter-2" / "2026-03-31.csv").read_bytes()


def test_a_sweep_on_dask_writes_the_rows_of_a_local_sweep(cluster: DaskCluster, tmp_path: Path) -> None:
    sweep = ("sweep", "--date", "2026-06-20", "--days", "2", "--interval-s", "900", "--sweep-pv-kwp", "3,6",
             "--sweep-battery-kwh", "0,5", "--sweep-annual-kwh", "3000,6000")
    assert main([*sweep, "--scheduler-address", cluster.address, "--output-dir", str(tmp_path / "dask")]) == 0
    assert main([*sweep, "--output-dir", str(tmp_path / "local")]) == 0
    results = (tmp_path / "dask" / "sweeps" / "default" / "results.csv").read_bytes()
    assert results == (tmp_path / "local" / "sweeps" / "default" / "results.csv").read_bytes()
    assert results.count(b"\n") == 1 + 2 * 2 * 2
    with cluster.client() as client:  # the cluster did the work
        assert "pvsim-sweep" in client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.task_prefixes))


def _worker_address(cluster: DaskCluster, name: str) -> str:
    with cluster.client() as client:
        return next(a for a, w in client.scheduler_info()["workers"].items() if w["name"] == name)


def _wait_until_processing_a_day(cluster: DaskCluster, address: str, run: subprocess.Popen[str]) -> None:
    with cluster.client() as client:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and run.poll() is None:
            if any(str(key).startswith("pvsim-day-") for key in client.processing([address]).get(address, ())):
                return
            time.sleep(0.01)
    raise AssertionError("the worker never got a day task")


def test_a_worker_killed_mid_run_costs_nothing(cluster: DaskCluster, tmp_path: Path) -> None:
    victim = _worker_address(cluster, "w0")
    log = tmp_path / "batch.log"
    with log.open("w") as out:
        run = subprocess.Popen([sys.executable, "-m", "batch", *HEAVY, "--output-dir", str(tmp_path / "dask"),
                                "--scheduler-address", cluster.address], cwd=ROOT, env=_batch_env(), stdout=out,
                               stderr=subprocess.STDOUT, text=True)
        try:
            _wait_until_processing_a_day(cluster, victim, run)
            cluster.kill_worker(0)  # SIGKILL, nanny and worker, while it holds a day
            assert run.wait(timeout=300) == 0, log.read_text()
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
    with cluster.client() as client:
        assert [w["name"] for w in client.scheduler_info()["workers"].values()] == ["w1"]
    assert "6 of 6 days written" in log.read_text()
    assert main([*HEAVY, "--workers", "1", "--output-dir", str(tmp_path / "local")]) == 0
    _assert_same_as_local(tmp_path / "dask", tmp_path / "local", days=6, meters=4)
