"""``python -m api import``: days already on disk become the intervals the dashboard and the API show."""

from __future__ import annotations

import csv
import datetime as dt
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


def test_import_of_days_with_a_battery_stores_its_mean_power_and_the_soc_at_each_intervals_end(
        database_url: str, tmp_path: Path, make_client: Callable[..., TestClient]) -> None:
    out = tmp_path / "out"
    assert batch_main(["--date", DAY, "--days", "2", "--meters", "1", "--interval-s", "60", "--workers", "1",
                       "--battery-kwh", "5", "--output-dir", str(out), "--log-level", "WARNING"]) == 0
    assert api_main(["import", "--output-dir", str(out), "--database-url", database_url,
                     "--results-interval-s", "900"]) == 0
    with (out / "meter-1" / f"{DAY}.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    day = make_client().get(f"/api/meters/meter-1/days/{DAY}").json()["intervals"]
    assert len(day) == 96
    for index in (0, 48, 95):  # night, midday (charging), the day's last interval
        mine = rows[15 * index:15 * index + 15]
        assert day[index]["battery_power_kw"] == pytest.approx(
            sum(float(row["battery_power_kw"]) for row in mine) / 15, abs=1e-9)
        assert day[index]["battery_soc_kwh"] == pytest.approx(float(mine[-1]["battery_soc_kwh"]), abs=1e-9)
        assert day[index]["net_power_kw"] == pytest.approx(
            sum(float(row["net_power_kw"]) for row in mine) / 15, abs=1e-9)
    assert max(interval["battery_soc_kwh"] for interval in day) > 0  # it charged at all


def test_import_keeps_the_battery_fields_null_for_days_without_one(
        database_url: str, tmp_path: Path, make_client: Callable[..., TestClient]) -> None:
    out = tmp_path / "out"
    assert batch_main(["--date", DAY, "--meters", "1", "--interval-s", "60", "--workers", "1",
                       "--output-dir", str(out), "--log-level", "WARNING"]) == 0
    assert api_main(["import", "--output-dir", str(out), "--database-url", database_url]) == 0
    day = make_client().get(f"/api/meters/meter-1/days/{DAY}").json()["intervals"]
    assert day and all(i["battery_power_kw"] is None and i["battery_soc_kwh"] is None for i in day)


def test_an_interval_spread_over_two_day_files_takes_the_soc_of_its_latest_row() -> None:
    import pandas as pd

    from api.importer import interval_rows, interval_sums, merge_sums

    def day_file(seconds: list[int], soc: list[float]) -> pd.DataFrame:
        return pd.DataFrame({"utc": pd.to_datetime(seconds, unit="s", utc=True), "meter_power_kw": 1.0,
                             "pv_power_kw": 0.0, "net_power_kw": 1.5, "battery_power_kw": 0.5,
                             "battery_soc_kwh": soc})

    later = interval_sums(day_file([1800, 2400], [2.0, 2.5]), 3600)  # the next local day's first rows
    earlier = interval_sums(day_file([0, 600], [1.0, 1.5]), 3600)
    (row,) = interval_rows("m", merge_sums([later, earlier]), 3600, dt.datetime.now(dt.UTC))
    assert row["readings"] == 4 and row["battery_power_kw"] == 0.5 and row["battery_soc_kwh"] == 2.5
