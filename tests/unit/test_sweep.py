"""Unit tests of the sizing sweep (batch/sweep.py, batch/sweep_figure.py)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from batch.__main__ import main as batch_main
from batch.sweep import SweepSettings, period_of
from batch.sweep_figure import anchor_report

ARGS = ["--days", "2", "--date", "2025-06-21", "--interval-s", "900", "--sweep-pv-kwp", "3,6",
        "--sweep-battery-kwh", "0,2,8", "--sweep-name", "t", "--pv-model", "clearsky"]


def rows_of(path):
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_a_sweep_writes_one_reproducible_row_per_combination_and_a_figure(tmp_path, capsys):
    assert batch_main(["sweep", "--output-dir", str(tmp_path), *ARGS]) == 0
    folder = tmp_path / "sweeps" / "t"
    first = (folder / "results.csv").read_bytes()
    assert (folder / "self_sufficiency.png").stat().st_size > 10_000
    assert "5 kWp + 5 kWh" in capsys.readouterr().out  # the anchor lines
    rows = rows_of(folder / "results.csv")
    assert [(r["pv_kwp"], r["battery_kwh"]) for r in rows] == [
        ("3", "0"), ("3", "2"), ("3", "8"), ("6", "0"), ("6", "2"), ("6", "8")]
    assert batch_main(["sweep", "--output-dir", str(tmp_path), *ARGS]) == 0
    assert (folder / "results.csv").read_bytes() == first


def test_pv_alone_rows_match_a_recomputation_and_batteries_only_add(tmp_path):
    assert batch_main(["sweep", "--output-dir", str(tmp_path), *ARGS]) == 0
    rows = rows_of(tmp_path / "sweeps" / "t" / "results.csv")
    settings = SweepSettings(**{"days": 2, "date": "2025-06-21", "interval_s": 900, "pv_model": "clearsky"})
    period = period_of(settings, 4500.0)
    for pv_kwp in (3.0, 6.0):
        net_kw = period.meter_kw - period.pv_per_kwp_kw * pv_kwp
        consumed = period.meter_kw.sum() * 0.25
        imported = np.clip(net_kw, 0, None).sum() * 0.25
        mine = [r for r in rows if float(r["pv_kwp"]) == pv_kwp]
        assert float(mine[0]["imported_kwh"]) == pytest.approx(imported, abs=1e-3)
        assert float(mine[0]["self_sufficiency_percent"]) == pytest.approx(100 * (1 - imported / consumed), abs=0.01)
        shares = [float(r["self_sufficiency_percent"]) for r in mine]
        assert shares == sorted(shares) and shares[-1] > shares[0] + 10
        assert float(mine[0]["charged_kwh"]) == 0 and float(mine[2]["equivalent_full_cycles"]) > 0


def test_lists_come_from_flags_or_the_environment(monkeypatch):
    monkeypatch.setenv("PVSIM_SWEEP_PV_KWP", "1.5, 3")
    settings = SweepSettings(sweep_battery_kwh="0,10")
    assert settings.sweep_pv_kwp == (1.5, 3.0)
    assert settings.sweep_battery_kwh == (0.0, 10.0)


@pytest.mark.parametrize("bad", [["--sweep-pv-kwp", "0,3"], ["--sweep-battery-kwh", "-1"],
                                 ["--sweep-annual-kwh", "lots"], ["--battery-strategy", "arbitrage"]])
def test_bad_sweep_settings_are_one_line_and_exit_2(bad, capsys, tmp_path):
    with pytest.raises(SystemExit) as stop:
        batch_main(["sweep", "--output-dir", str(tmp_path), *bad])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("batch sweep: error:") and "\n" not in err


def test_the_anchor_report_says_how_far_each_point_is():
    rows = [{"annual_kwh": "4500", "pv_kwp": "4.5", "battery_kwh": "4.5", "self_sufficiency_percent": "61.00"},
            {"annual_kwh": "4500", "pv_kwp": "5", "battery_kwh": "5", "self_sufficiency_percent": "60.00"},
            {"annual_kwh": "4500", "pv_kwp": "5", "battery_kwh": "0", "self_sufficiency_percent": "30.00"}]
    report = anchor_report(rows)
    assert "pvsim 61.0 % at 4.5 kWp, 4.5 kWh, 4500 kWh/a (+3.0 points outside)" in report
    assert "pvsim 60.0 % at 5 kWp, 5 kWh, 4500 kWh/a (within)" in report
    assert "above 70 % (HTW: needs very large systems): no point of this sweep" in report
