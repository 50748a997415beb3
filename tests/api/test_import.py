"""``python -m api import``: days already on disk become the intervals the dashboard and the API show."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.__main__ import main as api_main
from batch.__main__ import main as batch_main

DAY = "2026-06-21"


def _means_of_first_interval(path: Path, rows: int) -> dict[str, float]:
    """Recomputed with the csv module: the means of the file's first ``rows`` readings."""
    with path.open(newline="", encoding="utf-8") as handle:
        first = [row for _, row in zip(range(rows), csv.DictReader(handle), strict=False)]
    nets = [float(row["net_power_kw"]) for row in first]
    return {"meter_power_kw": sum(float(row["meter_power_kw"]) for row in first) / rows,
            "pv_power_kw": sum(float(row["pv_power_kw"]) for row in first) / rows,
            "import_power_kw": sum(max(net, 0.0) for net in nets) / rows,
            "export_power_kw": sum(max(-net, 0.0) for net in nets) / rows}


def test_import_makes_days_on_disk_browsable_and_a_second_import_changes_nothing(
        database_url: str, tmp_path: Path, make_client: Callable[..., TestClient],
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert batch_main(["--date", DAY, "--days", "2", "--meters", "2", "--interval-s", "60", "--workers", "1",
                       "--output-dir", str(out), "--log-level", "WARNING"]) == 0
    for _ in range(2):
        assert api_main(["import", "--output-dir", str(out), "--database-url", database_url,
                         "--results-interval-s", "900"]) == 0
    assert "imported 4 day file(s)" in capsys.readouterr().err
    client = make_client()
    meters = client.get("/api/meters").json()
    assert [(meter["meter_id"], meter["intervals"]) for meter in meters] == [("meter-1", 192), ("meter-2", 192)]
    day = client.get(f"/api/meters/meter-2/days/{DAY}").json()["intervals"]
    assert len(day) == 96 and all(interval["readings"] == 15 and interval["interval_s"] == 900 for interval in day)
    expected = _means_of_first_interval(out / "meter-2" / f"{DAY}.csv", 15)
    assert day[0]["interval_start"].startswith("2026-06-20T22:00:00")
    for name, value in expected.items():
        assert day[0][name] == pytest.approx(value, abs=1e-9), name


def test_import_of_a_missing_folder_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert api_main(["import", "--output-dir", str(tmp_path / "nowhere")]) == 2
    error = capsys.readouterr().err.strip()
    assert error == f"api import: error: --output-dir / PVSIM_OUTPUT_DIR: {tmp_path / 'nowhere'} is not a directory"
