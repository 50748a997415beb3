"""The grid step on a real broker run: three meters through RabbitMQ, then ``python -m grid`` on a SimBench feeder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from batch.__main__ import main as batch_main
from tests.conftest import ROOT, service_env, start_service

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAY = "2026-06-21"
FEEDER = "1-LV-semiurb4"


def run_grid(amqp_url: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grid", "--output-dir", str(out), "--date", DAY, "--feeder", FEEDER,
                           "--resolution-s", "60"], cwd=ROOT, env=service_env(amqp_url), capture_output=True,
                          text=True, timeout=600, check=False)


def test_three_meters_of_a_broker_run_on_a_simbench_feeder(amqp_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    pv = start_service("pv_simulator", amqp_url, "--exit-when-done", "--output-dir", str(out),
                       log_path=tmp_path / "pv.log")
    meter = start_service("meter", amqp_url, "--date", DAY, "--meters", "3", "--interval-s", "10", "--seed", "4",
                          log_path=tmp_path / "meter.log")
    assert meter.wait(timeout=300) == 0, (tmp_path / "meter.log").read_text()
    assert pv.wait(timeout=300) == 0, (tmp_path / "pv.log").read_text()

    done = run_grid(amqp_url, out)
    assert done.returncode == 0, done.stderr
    assert "3 meters on its first 3 of 41 loads; the other 38 loads carry nothing" in done.stderr
    folder = out / "grid" / FEEDER
    feeder = pd.read_csv(folder / f"{DAY}.csv")
    buildings = pd.read_csv(folder / f"{DAY}.buildings.csv")
    assert len(feeder) == 1440 and len(buildings) == 3 * 1440

    # Each building's P is its meter CSV's mean net power over the minute.
    meter_2 = pd.read_csv(out / "meter-2" / f"{DAY}.csv")
    minute_means = meter_2.groupby(meter_2["timestamp"].str[:16])["net_power_kw"].mean().to_numpy()
    assert buildings.loc[buildings["meter_id"] == "meter-2", "p_kw"].to_numpy() == pytest.approx(minute_means,
                                                                                                  abs=1e-4)
    # The feeder draws the buildings' power plus losses; three houses keep 41-house cables far from their limits.
    assert feeder["grid_p_kw"].to_numpy() == pytest.approx(
        buildings.groupby("timestamp", sort=False)["p_kw"].sum().to_numpy() + feeder["losses_kw"].to_numpy(),
        abs=1e-3)
    assert (feeder["losses_kw"] > 0).all()
    assert feeder["trafo_loading_percent"].max() < 20
    summary = json.loads((folder / f"{DAY}.summary.json").read_text())
    assert summary["buildings"] == 3 and summary["minutes_outside_band"] == 0.0
    assert 1.0 < summary["vm_max_pu"] < 1.03  # SimBench's 1.025 pu at the MV side, plus a little PV rise

    # The broker run's CSVs are byte-identical to batch mode's, so the grid files are too.
    batch_out = tmp_path / "batch"
    assert batch_main(["--date", DAY, "--meters", "3", "--interval-s", "10", "--seed", "4", "--workers", "1",
                       "--output-dir", str(batch_out), "--log-level", "WARNING"]) == 0
    assert run_grid(amqp_url, batch_out).returncode == 0
    for name in (f"{DAY}.csv", f"{DAY}.buildings.csv", f"{DAY}.summary.json"):
        assert (batch_out / "grid" / FEEDER / name).read_bytes() == (folder / name).read_bytes()

    report = subprocess.run([sys.executable, "-m", "pv_simulator.report", str(out), "--plot"], cwd=ROOT,
                            env=service_env(amqp_url), capture_output=True, text=True, timeout=300, check=False)
    assert report.returncode == 0, report.stderr
    assert (folder / f"{DAY}.png").stat().st_size > 20_000
