"""End to end on the real broker: meter → PV simulator → pvsim.results → api; stored intervals = the CSV's means."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import results_queue
from tests.api.test_live_feed import live_client, wait_for
from tests.conftest import queue_depth, start_service
from tests.feed import csv_interval_means

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAY = date(2026, 6, 21)
RESULTS_INTERVAL_S = 300


def test_a_broker_run_stores_every_interval_with_the_csv_means_and_the_live_grid(
        amqp_url: str, make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    client = live_client(make_client, amqp_url)
    out = tmp_path / "out"
    pv = start_service("pv_simulator", amqp_url, "--exit-when-done", "--output-dir", str(out),
                       "--results-interval-s", str(RESULTS_INTERVAL_S), log_path=tmp_path / "pv.log")
    meter = start_service("meter", amqp_url, "--date", DAY.isoformat(), "--meters", "2", "--interval-s", "10",
                          log_path=tmp_path / "meter.log")
    assert meter.wait(timeout=300) == 0, (tmp_path / "meter.log").read_text()
    assert pv.wait(timeout=300) == 0, (tmp_path / "pv.log").read_text()
    wait_for(lambda: client.get("/api/health").json()["live"]["runs_stored"] == 2, timeout_s=120,
             what="both run-complete notices")
    wait_for(lambda: queue_depth(amqp_url, results_queue(client)) == 0, what="the queue drained")

    for meter_id in ("meter-1", "meter-2"):
        expected = csv_interval_means(out / meter_id / f"{DAY.isoformat()}.csv", RESULTS_INTERVAL_S)
        stored = client.get(f"/api/meters/{meter_id}/days/{DAY.isoformat()}").json()["intervals"]
        assert len(stored) == len(expected) == 288
        for row, (start, means) in zip(stored, expected.iterrows(), strict=True):
            assert int(_epoch(row["interval_start"])) == int(start)
            assert row["readings"] == means["readings"]
            for column in ("meter_power_kw", "pv_power_kw", "net_power_kw"):
                assert row[column] == pytest.approx(means[column], abs=1e-6), (meter_id, start, column)
            assert row["import_power_kw"] - row["export_power_kw"] == pytest.approx(row["net_power_kw"], abs=1e-6)

    def complete_grid() -> list[dict] | None:
        results = client.get(f"/api/grid/days/{DAY.isoformat()}").json().get("results", [])
        return results if len(results) == 288 and all(r["meters"] == 2 for r in results) else None

    grid = wait_for(complete_grid, timeout_s=120, what="a grid result of both meters for every interval")
    first = client.get(f"/api/meters/meter-1/days/{DAY.isoformat()}").json()["intervals"][0]
    second = client.get(f"/api/meters/meter-2/days/{DAY.isoformat()}").json()["intervals"][0]
    assert grid[0]["grid_p_kw"] == pytest.approx(first["net_power_kw"] + second["net_power_kw"])  # the fake's sum


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_after_a_disk_full_stop_and_a_restart_every_interval_is_stored_with_the_csv_means(
        amqp_url: str, make_client: Callable[..., TestClient], tmp_path: Path, small_disk: Path) -> None:
    client = live_client(make_client, amqp_url)
    meter = start_service("meter", amqp_url, "--date", DAY.isoformat(), log_path=tmp_path / "meter.log")
    assert meter.wait(timeout=300) == 0, (tmp_path / "meter.log").read_text()
    pv = start_service("pv_simulator", amqp_url, "--exit-when-done", "--output-dir", str(small_disk),
                       log_path=tmp_path / "pv-1.log")
    assert pv.wait(timeout=120) != 0 and "No space left on device" in (tmp_path / "pv-1.log").read_text()
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)  # the disk grows
    pv = start_service("pv_simulator", amqp_url, "--exit-when-done", "--output-dir", str(small_disk),
                       log_path=tmp_path / "pv-2.log")
    assert pv.wait(timeout=300) == 0, (tmp_path / "pv-2.log").read_text()[-4000:]
    wait_for(lambda: client.get("/api/health").json()["live"]["runs_stored"] == 1, timeout_s=120,
             what="the run-complete notice")
    wait_for(lambda: queue_depth(amqp_url, results_queue(client)) == 0, what="the queue drained")
    expected = csv_interval_means(small_disk / "meter-1" / f"{DAY.isoformat()}.csv", 60)
    stored = client.get(f"/api/meters/meter-1/days/{DAY.isoformat()}").json()["intervals"]
    assert len(stored) == len(expected) == 1440
    for row, (start, means) in zip(stored, expected.iterrows(), strict=True):
        assert int(_epoch(row["interval_start"])) == int(start) and row["readings"] == means["readings"]
        assert row["meter_power_kw"] == pytest.approx(means["meter_power_kw"], abs=1e-6)
    day = client.get(f"/api/dashboard/meters/meter-1/days/{DAY.isoformat()}").json()
    assert (day["complete"], day["readings_stored"]) == (True, 86_400)
