"""Batch mode without a broker: complete, exact days; bad settings exit 2."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from batch.__main__ import main
from tests.expect import assert_day_exact, plan_for


@pytest.mark.parametrize("workers", ["1", "2"])
def test_batch_writes_every_second_of_every_day_once(tmp_path: Path, workers: str) -> None:
    code = main(["--date", "2026-03-28", "--days", "3", "--meters", "2", "--seed", "5", "--interval-s", "2",
                 "--workers", workers, "--output-dir", str(tmp_path)])
    assert code == 0
    plan = plan_for(date(2026, 3, 28), meters=2, days=3, seed=5, interval_s=2)
    rows = [assert_day_exact(tmp_path, plan, meter, day) for meter in range(2) for day in range(3)]
    assert rows == [43_200, 41_400, 43_200] * 2  # 2026-03-29 is 23 hours long in Berlin


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
