"""The report command plots grid result days and keeps them out of the meter table."""

from __future__ import annotations

from pathlib import Path

import pytest

from batch.__main__ import main as batch_main
from grid.__main__ import main as grid_main
from pv_simulator.report import main as report_main
from store.layout import is_grid_day, is_grid_result

DAY = "2026-06-21"


def test_grid_paths_are_recognised() -> None:
    assert is_grid_day(Path("out/grid/seed/2026-06-21.csv"))
    assert is_grid_result(Path("out/grid/seed/2026-06-21.buildings.csv"))
    assert not is_grid_day(Path("out/grid/seed/2026-06-21.buildings.csv"))
    assert not is_grid_result(Path("out/meter-1/2026-06-21.csv"))
    assert not is_grid_result(Path("out/grid/2026-06-21.csv"))


def test_report_plots_the_feeder_day_and_tables_only_meters(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert batch_main(["--date", DAY, "--meters", "2", "--interval-s", "60", "--workers", "1",
                       "--output-dir", str(tmp_path)]) == 0
    assert grid_main(["--output-dir", str(tmp_path), "--date", DAY, "--feeder", "1-LV-rural1",
                      "--resolution-s", "300", "--log-level", "WARNING"]) == 0
    capsys.readouterr()
    assert report_main([str(tmp_path), "--plot"]) == 0
    out = capsys.readouterr()
    png = tmp_path / "grid" / "1-LV-rural1" / f"{DAY}.png"
    assert out.err.splitlines() == [f"report: wrote {path}" for path in  # nothing else: no warning
                                    (png, tmp_path / "meter-1" / f"{DAY}.png", tmp_path / "meter-2" / f"{DAY}.png")]
    assert [line.split()[0] for line in out.out.splitlines()[1:]] == ["meter-1", "meter-2"]
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 20_000
    assert not (tmp_path / "grid" / "1-LV-rural1" / f"{DAY}.buildings.png").exists()


def test_a_broken_grid_csv_is_reported_and_counted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "grid" / "seed"
    folder.mkdir(parents=True)
    (folder / f"{DAY}.csv").write_text("timestamp,grid_p_kw\n")
    assert report_main([str(tmp_path), "--plot"]) == 1
    assert "not a grid day CSV" in capsys.readouterr().err
