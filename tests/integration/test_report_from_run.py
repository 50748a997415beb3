"""The report command summarises and plots a real pipeline run's output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, service_env, start_service

pytestmark = [pytest.mark.integration]


def test_report_prints_the_summary_table_and_writes_a_plot_of_a_real_run(amqp_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    pv = start_service("pv_simulator", amqp_url, "--exit-when-done", "--output-dir", str(out),
                       log_path=tmp_path / "pv.log")
    meter = start_service("meter", amqp_url, "--date", "2026-06-21", "--days", "2", "--meters", "2",
                          "--interval-s", "30", log_path=tmp_path / "meter.log")
    assert meter.wait(timeout=120) == 0 and pv.wait(timeout=120) == 0, (tmp_path / "pv.log").read_text()

    report = subprocess.run([sys.executable, "-m", "pv_simulator.report", str(out), "--plot"], cwd=ROOT,
                            env=service_env(amqp_url), capture_output=True, text=True, timeout=120, check=False)
    assert report.returncode == 0, report.stderr
    lines = [line for line in report.stdout.splitlines() if line.startswith("meter-")]
    assert len(lines) == 4  # 2 meters x 2 days
    assert any("2026-06-22" in line for line in lines)
    for meter_id in ("meter-1", "meter-2"):
        for day in ("2026-06-21", "2026-06-22"):
            png = out / meter_id / f"{day}.png"
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
            summary = json.loads((out / meter_id / f"{day}.summary.json").read_text())
            assert summary["rows"] == 2880 and summary["interval_s"] == 30.0
            # the table shows the same consumption as the service's summary file
            assert f"{summary['consumed_kwh']:.3f}" in next(line for line in lines if meter_id in line and day in line)
