"""Batch mode with ``--pv-model weather``: the DWD test reference year's days in the day files.

Datenbasis: Deutscher Wetterdienst (TRY2010, shipped in demandlib).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from common.clock import LocalDay
from models.pv.site import PvSite
from models.pv.try_data import load_try
from models.pv.weather import hourly_year_kw, weather_day_kw
from tests.conftest import ROOT
from tests.expect import read_day

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BERLIN = ZoneInfo("Europe/Berlin")


def run_batch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "batch", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)


def test_batch_writes_the_weather_days_of_berlins_region(tmp_path: Path) -> None:
    """28 Feb - 1 Mar of a leap year: the PV column is the weather model of region 4 (Berlin's), each day's
    PV energy the hourly chain's, and 29 February has 28 February's weather."""
    done = run_batch("--date", "2028-02-28", "--days", "3", "--pv-model", "weather", "--surface-tilt-deg", "35",
                     "--interval-s", "10", "--output-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    site, year = PvSite(surface_tilt=35.0), load_try(4)
    midpoints_s, hourly_kw = hourly_year_kw(year, 2028, site)
    for offset in range(3):
        day = date(2028, 2, 28) + timedelta(days=offset)
        frame = read_day(tmp_path / "meter-1" / f"{day.isoformat()}.csv")
        local = LocalDay(day, BERLIN)
        wall = local.wall_seconds(((frame["utc"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy())
        expected_kw = weather_day_kw(year, local, site)[wall]
        np.testing.assert_allclose(frame["pv_power_kw"].to_numpy(), expected_kw, atol=5e-5)
        summary = json.loads((tmp_path / "meter-1" / f"{day.isoformat()}.summary.json").read_text())
        start = pd.Timestamp(day).tz_localize(BERLIN).timestamp()
        inside = (midpoints_s >= start) & (midpoints_s < start + 86_400)
        # every 10 s sampled: within 1 % of the hourly chain's energy of the day
        assert summary["pv_kwh"] == pytest.approx(hourly_kw[inside].sum(), rel=0.01)
        assert summary["pv_kwh"] > 0.5
    feb28 = read_day(tmp_path / "meter-1" / "2028-02-28.csv")["pv_power_kw"].sum()
    feb29 = read_day(tmp_path / "meter-1" / "2028-02-29.csv")["pv_power_kw"].sum()
    assert feb29 == pytest.approx(feb28, rel=0.05)


def test_an_explicit_region_changes_the_weather_and_a_site_abroad_needs_one(tmp_path: Path) -> None:
    args = ("--date", "2026-07-01", "--days", "1", "--pv-model", "weather", "--interval-s", "60")
    assert run_batch(*args, "--output-dir", str(tmp_path / "r4")).returncode == 0
    assert run_batch(*args, "--weather-region", "12", "--output-dir", str(tmp_path / "r12")).returncode == 0
    potsdam = json.loads((tmp_path / "r4" / "meter-1" / "2026-07-01.summary.json").read_text())["pv_kwh"]
    mannheim = json.loads((tmp_path / "r12" / "meter-1" / "2026-07-01.summary.json").read_text())["pv_kwh"]
    assert potsdam != pytest.approx(mannheim, rel=0.01)
    abroad = run_batch(*args, "--latitude-deg", "48.85", "--longitude-deg", "2.35", "--output-dir", str(tmp_path / "x"))
    assert abroad.returncode == 2
    assert abroad.stderr.strip().count("\n") == 0 and "--weather-region" in abroad.stderr
    assert not (tmp_path / "x").exists()
