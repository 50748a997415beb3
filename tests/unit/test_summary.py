"""Day summary: hand-computed energy balance, edge cases, CSV reading and the JSON file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pv_simulator.summary import (
    DaySummary,
    infer_interval_s,
    summarize,
    summarize_csv,
    write_summary_json,
)
from store.format import HEADER
from store.reader import read_day_csv

STAMPS = [f"2026-06-21T{h}+02:00" for h in ("12:00:00", "12:15:00", "12:30:00", "12:45:00")]
METER_KW = [2.0, 1.0, 0.5, 3.5]
PV_KW = [0.0, 2.0, 1.75, 1.0]
# net = [2.0, -1.0, -1.25, 2.5] kW; each reading stands for 900 s = 0.25 h.


def write_csv(path: Path, stamps: list[str], meter_kw: list[float], pv_kw: list[float], meter_id: str = "m1") -> Path:
    rows = [f"{t},{meter_id},{m:.4f},{p:.4f},{m - p:.4f}\n" for t, m, p in zip(stamps, meter_kw, pv_kw, strict=True)]
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def test_hand_computed_day_gives_every_field_exactly() -> None:
    summary = summarize(np.array(STAMPS), np.array(METER_KW), np.array(PV_KW), 900, meter_id="m1")
    assert summary == DaySummary(
        meter_id="m1",
        day="2026-06-21",
        rows=4,
        interval_s=900.0,
        consumed_kwh=1.75,  # 7.0 kW * 0.25 h
        pv_kwh=1.1875,  # 4.75 kW * 0.25 h
        imported_kwh=1.125,  # (2.0 + 2.5) kW * 0.25 h
        exported_kwh=0.5625,  # (1.0 + 1.25) kW * 0.25 h
        self_consumption_percent=52.6316,  # (1.1875 - 0.5625) / 1.1875
        self_sufficiency_percent=35.7143,  # (1.75 - 1.125) / 1.75
        peak_import_kw=2.5,
        peak_import_at="2026-06-21T12:45:00+02:00",
        peak_export_kw=1.25,
        peak_export_at="2026-06-21T12:30:00+02:00",
    )


def test_without_pv_self_consumption_is_undefined_and_all_is_imported() -> None:
    summary = summarize(STAMPS, METER_KW, [0.0] * 4, 900)
    assert summary.pv_kwh == 0.0
    assert summary.self_consumption_percent is None
    assert summary.self_sufficiency_percent == 0.0
    assert summary.imported_kwh == summary.consumed_kwh == 1.75
    assert summary.exported_kwh == 0.0
    assert (summary.peak_export_kw, summary.peak_export_at) == (0.0, None)
    assert summary.meter_id is None


def test_all_export_day_is_fully_self_sufficient() -> None:
    summary = summarize(STAMPS, [0.5, 0.5, 0.5, 0.5], [1.0, 2.0, 3.0, 2.0], 900)
    assert summary.imported_kwh == 0.0
    assert summary.exported_kwh == 1.5  # (0.5 + 1.5 + 2.5 + 1.5) kW * 0.25 h
    assert summary.self_sufficiency_percent == 100.0
    assert summary.self_consumption_percent == 25.0  # (2.0 - 1.5) / 2.0
    assert (summary.peak_import_kw, summary.peak_import_at) == (0.0, None)
    assert (summary.peak_export_kw, summary.peak_export_at) == (2.5, STAMPS[2])


def test_nothing_consumed_leaves_self_sufficiency_undefined() -> None:
    summary = summarize(STAMPS, [0.0] * 4, [0.0] * 4, 1)
    assert summary.self_sufficiency_percent is None
    assert summary.self_consumption_percent is None


def test_no_readings_gives_an_empty_summary() -> None:
    summary = summarize([], [], [], 1)
    assert (summary.rows, summary.day, summary.consumed_kwh, summary.peak_import_at) == (0, None, 0.0, None)


def test_energy_scales_with_interval() -> None:
    one_second = summarize(STAMPS, METER_KW, PV_KW, 1)
    assert one_second.consumed_kwh == round(7.0 / 3600, 6)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [((STAMPS, METER_KW[:3], PV_KW, 900), "length"), ((STAMPS, METER_KW, PV_KW, 0), "interval_s")],
)
def test_rejects_mismatched_arrays_and_bad_interval(arguments: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        summarize(*arguments)


def test_summarize_csv_infers_interval_and_matches_arrays(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "2026-06-21.csv", STAMPS, METER_KW, PV_KW)
    assert summarize_csv(path) == summarize(STAMPS, METER_KW, PV_KW, 900, meter_id="m1")


def test_summarize_csv_sorts_a_late_reading_back_into_place(tmp_path: Path) -> None:
    order = [0, 2, 3, 1]  # the 12:15 reading arrived last
    path = write_csv(tmp_path / "late.csv", [STAMPS[i] for i in order], [METER_KW[i] for i in order],
                     [PV_KW[i] for i in order])
    frame = read_day_csv(path)
    assert frame["timestamp"].tolist() == STAMPS
    assert summarize_csv(path).interval_s == 900.0


def test_interval_of_one_reading_defaults_to_one_second(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "one.csv", STAMPS[:1], METER_KW[:1], PV_KW[:1])
    summary = summarize_csv(path)
    assert summary.interval_s == 1.0
    assert summary.consumed_kwh == round(2.0 / 3600, 6)


def test_interval_is_the_median_step_across_a_gap(tmp_path: Path) -> None:
    stamps = ["2026-10-25T02:59:58+02:00", "2026-10-25T02:59:59+02:00", "2026-10-25T02:00:00+01:00",
              "2026-10-25T02:00:05+01:00", "2026-10-25T02:00:06+01:00"]
    path = write_csv(tmp_path / "dst.csv", stamps, [1.0] * 5, [0.0] * 5)
    assert infer_interval_s(read_day_csv(path)["utc"]) == 1.0


def test_csv_without_pvsim_columns_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a pvsim day CSV"):
        summarize_csv(path)


def test_json_file_is_named_by_day_and_round_trips(tmp_path: Path) -> None:
    summary = summarize(STAMPS, METER_KW, [0.0] * 4, 900, meter_id="m1")
    path = write_summary_json(summary, tmp_path / "m1")
    assert path == tmp_path / "m1" / "2026-06-21.summary.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert DaySummary(**data) == summary
    assert data["self_consumption_percent"] is None
    assert list(tmp_path.joinpath("m1").iterdir()) == [path]  # no temporary file left


def test_json_of_a_day_without_readings_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_summary_json(summarize([], [], [], 1), tmp_path)


def test_running_totals_give_the_same_summary_as_the_arrays() -> None:
    from models.balance import DayTotals

    stamps = [f"2026-06-21T12:{m:02d}:00+02:00" for m in range(6)]
    meter_dw = [12_000, 8_000, 500, 0, 30_000, 15_000]
    pv_dw = [10_000, 10_000, 10_000, 0, 5_000, 15_000]
    totals = DayTotals()
    for stamp, meter, pv in zip(stamps, meter_dw, pv_dw, strict=True):
        totals.add(stamp, meter, pv)
    expected = summarize(stamps, np.array(meter_dw) / 10_000, np.array(pv_dw) / 10_000, 60.0, meter_id="meter-1")
    assert totals.summary("meter-1", "2026-06-21", 60.0) == expected
    assert expected.peak_export_at == stamps[2] and expected.peak_import_at == stamps[4]
