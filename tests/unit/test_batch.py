"""Batch mode without a broker: complete, exact days; bad settings exit 2."""

from __future__ import annotations

import signal
import socket
from datetime import date
from pathlib import Path

import pytest

import batch.cluster
import batch.local
from batch.__main__ import main
from batch.tasks import BatchJob, write_day
from models.pv.reference import ReferencePv
from store.format import OutputError
from tests.expect import assert_day_exact, plan_for


@pytest.mark.parametrize("workers", ["1", "2"])
def test_batch_writes_every_second_of_every_day_once(tmp_path: Path, workers: str) -> None:
    code = main(["--date", "2026-03-28", "--days", "3", "--meters", "2", "--seed", "5", "--interval-s", "2",
                 "--workers", workers, "--output-dir", str(tmp_path)])
    assert code == 0
    plan = plan_for(date(2026, 3, 28), meters=2, days=3, seed=5, interval_s=2)
    rows = [assert_day_exact(tmp_path, plan, meter, day) for meter in range(2) for day in range(3)]
    assert rows == [43_200, 41_400, 43_200] * 2  # 2026-03-29 is 23 hours long in Berlin


def test_a_local_worker_dies_on_sigterm_even_when_its_parent_handles_it() -> None:
    # Pool.terminate() ends idle workers with SIGTERM while the parent holds the task queue's
    # lock; a worker that inherited a flag-setting handler (a service, uvicorn, a test harness)
    # would go back to waiting for that lock, and leaving the pool would hang on joining it.
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        batch.local._init_worker(BatchJob.__new__(BatchJob))  # what each forked worker runs first
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_batch_replaces_an_existing_day_file(tmp_path: Path) -> None:
    target = tmp_path / "meter-1" / "2026-06-21.csv"
    target.parent.mkdir()
    target.write_text("old content\n")
    assert main(["--date", "2026-06-21", "--interval-s", "60", "--output-dir", str(tmp_path), "--workers", "1"]) == 0
    assert assert_day_exact(tmp_path, plan_for(date(2026, 6, 21), interval_s=60)) == 1440


def test_batch_bad_setting_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--days", "0"])
    assert exited.value.code == 2
    assert "--days / PVSIM_DAYS" in capsys.readouterr().err


def test_batch_unwritable_output_exits_1(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["--date", "2026-06-21", "--interval-s", "60", "--output-dir", str(blocker / "out"),
                 "--workers", "1"]) == 1


def test_batch_bad_scheduler_address_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--scheduler-address", "http://localhost"])
    assert exited.value.code == 2
    assert "--scheduler-address / PVSIM_SCHEDULER_ADDRESS" in capsys.readouterr().err


def test_batch_unreachable_scheduler_exits_1_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(batch.cluster, "CONNECT_TIMEOUT_S", 1)
    with socket.socket() as closed:  # a free port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert main(["--date", "2026-06-21", "--interval-s", "60", "--output-dir", str(tmp_path),
                 "--scheduler-address", f"tcp://127.0.0.1:{port}"]) == 1
    assert f"ERROR batch: cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in capsys.readouterr().err
    assert not list(tmp_path.glob("meter-1/*"))


def test_a_day_task_refuses_an_output_folder_that_is_not_the_runs(tmp_path: Path) -> None:
    plan = plan_for(date(2026, 6, 21), interval_s=60)
    job = BatchJob(plan, tmp_path, ReferencePv(None), marker=tmp_path / ".pvsim" / "batch" / "elsewhere")
    with pytest.raises(OutputError, match="shared by every worker"):
        write_day(job, 0)
    assert not (tmp_path / "meter-1").exists()


def test_batch_with_more_meters_than_the_feeders_loads_exits_2_before_writing_a_day(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--date", "2026-06-21", "--days", "20", "--meters", "2", "--interval-s", "60", "--feeder", "seed",
                 "--output-dir", str(tmp_path / "out"), "--workers", "1"])
    assert code == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert "2 meters but feeder 'seed' has only 1 load " in error
    assert "--meters 1 or fewer" in error
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.csv"))
