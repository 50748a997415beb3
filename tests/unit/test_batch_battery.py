"""Batch mode with a home battery: day files with the battery's columns, checked against a re-computation from
the files' own meter and PV columns, the state carried across days, the same bytes with any number of workers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from batch.__main__ import main as batch_main
from tests.expect import assert_battery_balance_closes
from tests.unit.test_battery import reference_self_consumption

RUN = ["--date", "2026-06-20", "--days", "2", "--meters", "2", "--interval-s", "60", "--pv-model", "clearsky",
       "--seed", "3"]
BATTERY = ["--battery-kwh", "6", "--battery-kw", "2.5", "--battery-efficiency", "0.9",
           "--battery-initial-soc-percent", "50"]


def run(tmp_path, name, *extra):
    output = tmp_path / name
    assert batch_main(["--output-dir", str(output), "--log-level", "WARNING", *RUN, *extra]) == 0
    return output


def meter_days(output, meter_id="meter-1"):
    return pd.concat([pd.read_csv(path) for path in sorted((output / meter_id).glob("*.csv"))], ignore_index=True)


@pytest.fixture(scope="module")
def with_battery(tmp_path_factory):
    return run(tmp_path_factory.mktemp("battery"), "one-worker", *BATTERY, "--workers", "1")


def test_the_battery_columns_match_a_recomputation_from_the_files_own_columns(with_battery):
    for meter_id in ("meter-1", "meter-2"):
        frame = meter_days(with_battery, meter_id)
        assert list(frame.columns[-2:]) == ["battery_power_kw", "battery_soc_kwh"]
        powers, socs = reference_self_consumption(frame.meter_power_kw.tolist(), frame.pv_power_kw.tolist(),
                                                  [60.0] * len(frame), 6.0, 2.5, 0.9, 3.0)
        np.testing.assert_allclose(frame.battery_power_kw, powers, rtol=0, atol=0.5e-4 + 1e-9)
        np.testing.assert_allclose(frame.battery_soc_kwh, socs, rtol=0, atol=0.5e-4 + 1e-9)
        assert frame.battery_soc_kwh.max() > 4.5 and frame.battery_soc_kwh.min() == 0.0  # it works both ends


def test_net_includes_the_battery_and_the_days_balance_closes(with_battery):
    frame = meter_days(with_battery)
    charged, discharged = assert_battery_balance_closes(frame, 60, 0.9, 3.0)
    assert charged > 5 and discharged > 5
    to_kwh = 60 / 3600
    summary = json.loads((with_battery / "meter-1" / "2026-06-21.summary.json").read_text())
    day = frame[frame.timestamp.str.startswith("2026-06-21")]
    assert summary["imported_kwh"] == pytest.approx(day.net_power_kw.clip(lower=0).sum() * to_kwh, abs=1e-6)


def test_the_state_carries_across_midnight(tmp_path):
    big = run(tmp_path, "big", "--battery-kwh", "40", "--battery-kw", "5", "--meters", "1", "--model", "gaussian",
              "--gaussian-mean-w", "300", "--gaussian-std-w", "100")
    first = pd.read_csv(big / "meter-1" / "2026-06-20.csv")
    assert first.battery_soc_kwh.iloc[-1] > 5  # the night did not empty it: something to carry
    frame = meter_days(big)
    powers, socs = reference_self_consumption(frame.meter_power_kw.tolist(), frame.pv_power_kw.tolist(),
                                              [60.0] * len(frame), 40.0, 5.0, 0.95, 0.0)
    np.testing.assert_allclose(frame.battery_soc_kwh, socs, rtol=0, atol=0.5e-4 + 1e-9)
    np.testing.assert_allclose(frame.battery_power_kw, powers, rtol=0, atol=0.5e-4 + 1e-9)


def test_the_same_bytes_with_two_workers(with_battery, tmp_path):
    other = run(tmp_path, "two-workers", *BATTERY, "--workers", "2")
    for path in sorted(with_battery.glob("meter-*/*")):
        assert (other / path.relative_to(with_battery)).read_bytes() == path.read_bytes(), path


def test_without_a_battery_the_files_are_todays(tmp_path):
    plain, zero = run(tmp_path, "plain"), run(tmp_path, "zero", "--battery-kwh", "0", "--battery-kw", "3")
    paths = sorted(plain.glob("meter-*/*"))
    assert paths and pd.read_csv(paths[0]).columns[-1] == "net_power_kw"
    for path in paths:
        assert (zero / path.relative_to(plain)).read_bytes() == path.read_bytes()


def test_a_bad_battery_setting_is_one_line_and_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        batch_main(["--output-dir", str(tmp_path), "--battery-efficiency", "1.5"])
    assert stop.value.code == 2
    assert "--battery-efficiency / PVSIM_BATTERY_EFFICIENCY" in capsys.readouterr().err


def test_the_day_summary_gives_the_batterys_energies_and_pv_alone(with_battery):
    frame = pd.read_csv(with_battery / "meter-2" / "2026-06-21.csv")
    summary = json.loads((with_battery / "meter-2" / "2026-06-21.summary.json").read_text())
    battery, to_kwh = summary["battery"], 60 / 3600
    charged = frame.battery_power_kw.clip(lower=0).sum() * to_kwh
    discharged = -frame.battery_power_kw.clip(upper=0).sum() * to_kwh
    assert battery["charged_kwh"] == pytest.approx(charged, abs=1e-6) and charged > 1
    assert battery["discharged_kwh"] == pytest.approx(discharged, abs=1e-6) and discharged > 1
    assert battery["losses_kwh"] == pytest.approx(0.1 * charged + (1 / 0.9 - 1) * discharged, abs=1e-3)
    assert battery["equivalent_full_cycles"] == pytest.approx(discharged / 6.0, abs=1e-4)
    assert battery["soc_end_kwh"] == pytest.approx(frame.battery_soc_kwh.iloc[-1], abs=0.5e-4)
    before = json.loads((with_battery / "meter-2" / "2026-06-20.summary.json").read_text())["battery"]
    assert before["soc_start_kwh"] == 3.0 and battery["soc_start_kwh"] == before["soc_end_kwh"]
    alone = (frame.meter_power_kw - frame.pv_power_kw).clip(lower=0).sum() * to_kwh
    assert battery["pv_only_imported_kwh"] == pytest.approx(alone, abs=1e-6)
    assert summary["imported_kwh"] < battery["pv_only_imported_kwh"]
    assert summary["self_sufficiency_percent"] > battery["pv_only_self_sufficiency_percent"]



def test_the_state_in_a_summary_resumes_the_next_day_bit_for_bit(with_battery):
    from models.battery import BatterySpec, dispatch

    before = json.loads((with_battery / "meter-1" / "2026-06-20.summary.json").read_text())["battery"]
    frame = pd.read_csv(with_battery / "meter-1" / "2026-06-21.csv")
    hour = frame.timestamp.str.slice(11, 13).astype(int) + frame.timestamp.str.slice(14, 16).astype(int) / 60
    replay = dispatch(frame.meter_power_kw, frame.pv_power_kw, 60.0, BatterySpec(6.0, 2.5, 0.9),
                      before["soc_end_kwh"], hour)
    after = json.loads((with_battery / "meter-1" / "2026-06-21.summary.json").read_text())["battery"]
    assert replay.soc_kwh == after["soc_end_kwh"]  # exact: the state a restart would rebuild from the disk


def test_grid_friendly_files_cap_the_export_and_show_the_pv_fed_after_curtailment(tmp_path):
    low_load = ["--meters", "1", "--model", "gaussian", "--gaussian-mean-w", "300", "--gaussian-std-w", "100"]
    plain = run(tmp_path, "plain", *low_load)
    capped = run(tmp_path, "capped", *low_load, "--battery-kwh", "3", "--battery-strategy", "grid-friendly",
                 "--battery-feed-in-limit-percent", "30")
    frame, before = meter_days(capped), meter_days(plain)
    assert frame.net_power_kw.min() >= -1.5 - 1e-4  # 30 % of the clear-sky model's 5 kWp
    assert np.array_equal(np.rint(frame.net_power_kw * 10_000), np.rint(
        (frame.meter_power_kw - frame.pv_power_kw + frame.battery_power_kw) * 10_000))
    cut = before.pv_power_kw - frame.pv_power_kw
    assert cut.min() >= 0 and cut.max() > 0.5
    summary = json.loads((capped / "meter-1" / "2026-06-21.summary.json").read_text())
    day = cut[frame.timestamp.str.startswith("2026-06-21")]
    assert summary["battery"]["curtailed_kwh"] == pytest.approx(day.sum() * 60 / 3600, abs=1e-3)


def test_the_grid_reads_a_battery_as_part_of_the_buildings_load(with_battery, tmp_path):
    from datetime import date
    from zoneinfo import ZoneInfo

    from common.clock import LocalDay
    from store.reader import read_meter_day

    path = with_battery / "meter-1" / "2026-06-21.csv"
    frame, day = pd.read_csv(path), LocalDay(date(2026, 6, 21), ZoneInfo("Europe/Berlin"))
    _, powers = read_meter_day(path, "meter-1", day)
    np.testing.assert_allclose(powers[:, 0], frame.meter_power_kw + frame.battery_power_kw, atol=1e-9)
    np.testing.assert_allclose(powers[:, 0] - powers[:, 1], frame.net_power_kw, atol=1e-9)
    loose = tmp_path / "loose.csv"  # another number format: the pandas path
    loose.write_bytes(path.read_bytes().replace(b",0.0000,", b",0,"))
    np.testing.assert_allclose(read_meter_day(loose, "meter-1", day)[1], powers, atol=1e-9)


def test_batch_with_a_battery_and_the_grid_step(tmp_path):
    output = tmp_path / "grid"
    assert batch_main(["--output-dir", str(output), "--log-level", "WARNING", "--date", "2026-06-21", "--days", "1",
                       "--meters", "1", "--interval-s", "900", "--battery-kwh", "5", "--feeder", "seed"]) == 0
    assert list((output / "grid").rglob("*.csv"))


def test_the_report_summarises_a_battery_file_as_batch_did(with_battery):
    from dataclasses import asdict

    from pv_simulator.summary import summarize_csv

    for path in sorted(with_battery.glob("meter-*/*.csv")):
        written = json.loads(path.with_name(path.stem + ".summary.json").read_text())
        recomputed = asdict(summarize_csv(path))
        for name in ("imported_kwh", "exported_kwh", "self_sufficiency_percent", "self_consumption_percent",
                     "peak_import_kw", "peak_export_kw"):
            assert recomputed[name] == pytest.approx(written[name], abs=1e-6), (path, name)


def test_the_report_plots_a_battery_file(with_battery, tmp_path):
    from pv_simulator.report import plot_day

    png = plot_day(with_battery / "meter-1" / "2026-06-21.csv", tmp_path / "day.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
