"""Batch mode writes the same bytes as the broker pipeline for the same settings."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import ROOT, service_env, start_service
from tests.expect import assert_day_exact, plan_for

pytestmark = [pytest.mark.integration]

SETTINGS = ("--date", "2026-10-24", "--days", "3", "--meters", "2", "--interval-s", "5", "--seed", "11")


def test_batch_csvs_are_byte_identical_to_the_broker_pipeline(amqp_url: str, tmp_path: Path) -> None:
    pv = start_service("pv_simulator", amqp_url, "--exit-when-done", "--output-dir", str(tmp_path / "broker"),
                       log_path=tmp_path / "pv.log")
    meter = start_service("meter", amqp_url, *SETTINGS, log_path=tmp_path / "meter.log")
    assert meter.wait(timeout=120) == 0, (tmp_path / "meter.log").read_text()
    assert pv.wait(timeout=120) == 0, (tmp_path / "pv.log").read_text()
    batch = subprocess.run([sys.executable, "-m", "batch", *SETTINGS, "--output-dir", str(tmp_path / "batch")],
                           cwd=ROOT, env=service_env(amqp_url), capture_output=True, text=True, timeout=120,
                           check=False)
    assert batch.returncode == 0, batch.stderr

    broker_files = sorted(p.relative_to(tmp_path / "broker") for p in (tmp_path / "broker").glob("*/*.*"))
    batch_files = sorted(p.relative_to(tmp_path / "batch") for p in (tmp_path / "batch").glob("*/*.*"))
    assert len(broker_files) == 12 and batch_files == broker_files  # 6 CSVs, 6 summaries
    for relative in broker_files:
        assert (tmp_path / "batch" / relative).read_bytes() == (tmp_path / "broker" / relative).read_bytes(), relative
    plan = plan_for(date(2026, 10, 24), meters=2, days=3, seed=11, interval_s=5)
    assert assert_day_exact(tmp_path / "batch", plan, 1, 1) == 90_000 // 5
