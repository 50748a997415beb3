"""The day summary's specific yield [kWh/kWp]: recomputed from the day file's own PV column and the DC capacity,
in batch mode and in the PV simulator; null for the reference curve and for summaries written before it."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

import pv_simulator.flush as flush
from batch.__main__ import main as batch_main
from common.clock import LocalDay
from pv_simulator.__main__ import build_service
from pv_simulator.settings import PvSimulatorSettings
from pv_simulator.summary import DaySummary, summarize, summarize_csv
from tests.fakes.pv import pv_service, tick
from tests.unit.test_pv_service_work import end_body

RUN = ["--date", "2026-06-21", "--days", "1", "--meters", "1", "--interval-s", "60", "--seed", "3",
       "--log-level", "WARNING"]


def recomputed_yield(csv_path: Path, interval_s: float, dc_capacity_kw: float) -> float:
    """PV energy of the file's own ``pv_power_kw`` column [kWh] (rectangle rule) per kWp."""
    return float(pd.read_csv(csv_path)["pv_power_kw"].sum()) * interval_s / 3600 / dc_capacity_kw


def batch_day(tmp_path: Path, *extra: str) -> tuple[Path, dict[str, object]]:
    assert batch_main(["--output-dir", str(tmp_path), *RUN, *extra]) == 0
    folder = tmp_path / "meter-1"
    return folder / "2026-06-21.csv", json.loads((folder / "2026-06-21.summary.json").read_text())


@pytest.mark.parametrize("pv_model", ["clearsky", "weather"])
def test_batch_gives_the_yield_of_the_files_pv_column_per_kwp(tmp_path: Path, pv_model: str) -> None:
    csv_path, summary = batch_day(tmp_path, "--pv-model", pv_model, "--dc-capacity-kw", "4.2")
    expected = recomputed_yield(csv_path, 60, 4.2)
    assert summary["specific_yield_kwh_per_kwp"] == pytest.approx(expected, abs=1e-6)
    assert 1.0 < expected < 8.0  # a June day in Berlin: some sun, never more than ~8 full-load hours
    assert list(summary)[-1] == "specific_yield_kwh_per_kwp"  # appended: the fields before it keep their order
    assert summary == asdict(summarize_csv(csv_path, 4.2))  # the report's recomputation agrees


def test_with_a_battery_the_yield_is_of_the_pv_column_as_written(tmp_path: Path) -> None:
    csv_path, summary = batch_day(tmp_path, "--pv-model", "clearsky", "--dc-capacity-kw", "6", "--battery-kwh", "5",
                                  "--battery-strategy", "grid-friendly")
    assert summary["specific_yield_kwh_per_kwp"] == pytest.approx(recomputed_yield(csv_path, 60, 6.0), abs=1e-6)
    assert "battery" in summary


def test_the_reference_curve_has_no_dc_rating_so_no_yield(tmp_path: Path) -> None:
    _, summary = batch_day(tmp_path, "--pv-model", "reference", "--dc-capacity-kw", "4.2")
    assert summary["specific_yield_kwh_per_kwp"] is None


def test_the_pv_simulator_writes_the_yield_of_its_day_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flush, "FLUSH_INTERVAL_S", 0.0)
    monkeypatch.setattr(flush, "FLUSH_DUTY", 0.0)
    service, channel = pv_service(tmp_path, "Europe/Berlin", exit_when_done=True, dc_capacity_kw=2.5)
    day = LocalDay(date(2026, 6, 21), ZoneInfo("Europe/Berlin"))
    for k in range(24):
        service.store.add("meter-1", (day.start_s + k * 3600) * 1000, 500.0)
    channel.deliver("meter.meter-1.end", end_body(day.start_s, 24, 3600))
    tick(service, 5)
    summary = json.loads((tmp_path / "meter-1" / "2026-06-21.summary.json").read_text())
    expected = recomputed_yield(tmp_path / "meter-1" / "2026-06-21.csv", 3600, 2.5)
    assert expected > 1.0
    assert summary["specific_yield_kwh_per_kwp"] == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("pv_model", "capacity"), [("clearsky", 7.5), ("weather", 7.5), ("reference", None)])
def test_the_pv_simulator_takes_the_capacity_of_its_pv_model(tmp_path: Path, pv_model: str,
                                                           capacity: float | None) -> None:
    settings = PvSimulatorSettings(pv_model=pv_model, dc_capacity_kw=7.5, output_dir=tmp_path)  # type: ignore[call-arg]
    assert build_service(settings).dc_capacity_kw == capacity


def test_a_summary_written_before_the_field_still_loads() -> None:
    old = asdict(summarize(["2026-06-21T12:00:00+02:00"], [1.0], [2.0], 3600, meter_id="m1"))
    del old["specific_yield_kwh_per_kwp"]
    assert DaySummary(**old).specific_yield_kwh_per_kwp is None


def test_a_capacity_not_above_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="dc_capacity_kw"):
        summarize(["2026-06-21T12:00:00+02:00"], [1.0], [2.0], 3600, dc_capacity_kw=0.0)
