"""Readings at both ends of the wire contract's range go through broker, day file, report, grid and web service."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from common import topology
from common.schema import EARLIEST, LATEST, EndOfRun, encode
from tests.api.test_live_feed import live_client, wait_for
from tests.conftest import ROOT, service_env, start_service
from tests.expect import read_day
from tests.integration.test_bad_input import publish, reading

pytestmark = [pytest.mark.integration]

INTERVAL_S = 60
RUNS = {  # an hour of readings from the first instant of the range, and an hour up to its last
    "early": [EARLIEST + timedelta(seconds=k * INTERVAL_S) for k in range(60)],
    "late": [LATEST - timedelta(seconds=k * INTERVAL_S) for k in range(60, -1, -1)],
}
EDGES = {"1970-01-02": 60, "2261-12-31": 1}
"""Rows of the edge days (UTC: east of it, local 1970-01-02 begins before the range, and the grid refuses a day
whose first interval has no reading)."""


def run_messages(run_id: str, instants: list[datetime]) -> list[tuple[str, bytes]]:
    end = EndOfRun(schema=1, meter_id="meter-1", run_id=run_id, meters=["meter-1"], readings=len(instants),
                   interval_s=INTERVAL_S, first_timestamp=instants[0], last_timestamp=instants[-1])
    key = topology.reading_routing_key("meter-1")
    return [*((key, reading(seq, when=when, power_w=500.0 + seq)) for seq, when in enumerate(instants)),
            (topology.end_routing_key("meter-1"), encode(end))]


def run_module(amqp_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=service_env(amqp_url), capture_output=True,
                          text=True, timeout=300, check=False)


def test_readings_at_both_edges_of_the_contract_reach_the_day_files_report_grid_and_web_service(
        amqp_url: str, make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    client = live_client(make_client, amqp_url, timezone="UTC")
    out = tmp_path / "out"
    publish(amqp_url, [message for run_id, instants in RUNS.items() for message in run_messages(run_id, instants)])
    pv = start_service("pv_simulator", amqp_url, "--exit-when-done", "--output-dir", str(out),
                       log_path=tmp_path / "pv.log", timezone="UTC")
    assert pv.wait(timeout=120) == 0, (tmp_path / "pv.log").read_text()[-4000:]
    for day, rows in EDGES.items():
        assert len(read_day(out / "meter-1" / f"{day}.csv")) == rows
        assert json.loads((out / "meter-1" / f"{day}.summary.json").read_text())["rows"] == rows

    report = run_module(amqp_url, "pv_simulator.report", str(out), "--plot")
    assert report.returncode == 0, report.stderr
    assert all(any(day in line for line in report.stdout.splitlines()) for day in EDGES), report.stdout
    for day in EDGES:
        grid = run_module(amqp_url, "grid", "--output-dir", str(out), "--date", day, "--feeder", "seed",
                          "--timezone", "UTC")
        assert grid.returncode == 0, grid.stderr
        assert len((out / "grid" / "seed" / f"{day}.csv").read_text().splitlines()) == 1 + 1440  # held to the end

    wait_for(lambda: client.get("/api/health").json()["live"]["runs_stored"] == 2, timeout_s=60,
             what="both run-complete notices")
    for day, rows in EDGES.items():
        stored = client.get(f"/api/meters/meter-1/days/{day}")
        assert stored.status_code == 200, stored.text
        assert [row["readings"] for row in stored.json()["intervals"]] == [1] * rows
        grid_day = wait_for(lambda day=day, rows=rows: len(client.get(f"/api/grid/days/{day}").json().get(
            "results", [])) == rows, what=f"the live grid of {day}")
        assert grid_day
