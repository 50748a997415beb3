"""``python -m grid``: the three result files, the summary's figures, and one-line errors with exit 2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from batch.__main__ import main as batch_main
from grid.__main__ import main
from grid.output import BUILDINGS_HEADER, FEEDER_HEADER

DAY = "2026-06-21"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def meters_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three meters' CSVs of 2026-06-21 every 60 s, written by batch mode."""
    output = tmp_path_factory.mktemp("meters")
    assert batch_main(["--date", DAY, "--meters", "3", "--interval-s", "60", "--workers", "1",
                       "--output-dir", str(output)]) == 0
    return output


@pytest.fixture
def out(meters_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "out"
    shutil.copytree(meters_dir, target)
    return target


def run(out: Path, *args: str) -> int:
    return main(["--output-dir", str(out), "--date", DAY, "--log-level", "WARNING", *args])


def test_writes_feeder_buildings_and_summary_files(out: Path) -> None:
    assert run(out, "--feeder", "1-LV-rural1", "--resolution-s", "900") == 0
    folder = out / "grid" / "1-LV-rural1"
    assert sorted(p.name for p in folder.iterdir()) == [f"{DAY}.buildings.csv", f"{DAY}.csv", f"{DAY}.summary.json"]
    feeder = pd.read_csv(folder / f"{DAY}.csv")
    assert (folder / f"{DAY}.csv").read_text().startswith(FEEDER_HEADER)
    assert len(feeder) == 96
    assert feeder["timestamp"].iloc[[0, -1]].tolist() == [f"{DAY}T00:00:00+02:00", f"{DAY}T23:45:00+02:00"]
    buildings = pd.read_csv(folder / f"{DAY}.buildings.csv")
    assert (folder / f"{DAY}.buildings.csv").read_text().startswith(BUILDINGS_HEADER)
    assert len(buildings) == 96 * 3
    assert buildings["meter_id"].iloc[:3].tolist() == ["meter-1", "meter-2", "meter-3"]
    # Feeder P = buildings' P + losses, interval by interval (to the printed precision).
    building_p = buildings.groupby("timestamp", sort=False)["p_kw"].sum().to_numpy()
    assert feeder["grid_p_kw"].to_numpy() == pytest.approx(building_p + feeder["losses_kw"].to_numpy(), abs=1e-3)
    assert (feeder["losses_kw"] >= 0).all()
    assert (feeder["vm_min_pu"] <= feeder["vm_max_pu"]).all()
    summary = json.loads((folder / f"{DAY}.summary.json").read_text())
    assert summary["vm_max_pu"] == pytest.approx(buildings["vm_pu"].max(), abs=1e-6)
    top = buildings.loc[buildings["vm_pu"].idxmax()]
    assert (summary["vm_max_at"], summary["vm_max_meter_id"]) == (top["timestamp"], top["meter_id"])
    hours = 900 / 3600
    assert summary["imported_kwh"] == pytest.approx(feeder["grid_p_kw"].clip(lower=0).sum() * hours, abs=1e-3)
    assert summary["exported_kwh"] == pytest.approx(-feeder["grid_p_kw"].clip(upper=0).sum() * hours, abs=1e-3)
    assert summary["losses_kwh"] == pytest.approx(feeder["losses_kw"].sum() * hours, abs=1e-3)
    assert summary["trafo_loading_max_percent"] == pytest.approx(feeder["trafo_loading_percent"].max(), abs=1e-3)
    assert summary["minutes_outside_band"] == 0.0


def test_one_second_resolution_has_a_row_per_second(out: Path) -> None:
    assert run(out, "--feeder", "1-LV-rural1", "--resolution-s", "1") == 0
    feeder = pd.read_csv(out / "grid" / "1-LV-rural1" / f"{DAY}.csv")
    assert len(feeder) == 86_400
    # Readings every 60 s are held over their minute.
    assert feeder["grid_p_kw"].iloc[:60].nunique() == 1


def test_seed_feeder_takes_one_meter(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(out, "--feeder", "seed") == 2
    err = capsys.readouterr().err.strip()
    assert err == "grid: error: 3 meters but feeder 'seed' has only 1 loads"
    assert not (out / "grid" / "seed").exists()
    for meter in ("meter-2", "meter-3"):
        shutil.rmtree(out / meter)
    assert run(out, "--feeder", "seed") == 0
    summary = json.loads((out / "grid" / "seed" / f"{DAY}.summary.json").read_text())
    assert summary["buildings"] == 1


@pytest.mark.parametrize(("args", "message"), [
    (["--feeder", "1-LV-nowhere"], "--feeder / PVSIM_FEEDER: unknown feeder '1-LV-nowhere' (available: seed,"),
    (["--resolution-s", "7"], "--resolution-s / PVSIM_RESOLUTION_S: resolution_s must divide 3600"),
    (["--power-factor", "1.5"], "--power-factor / PVSIM_POWER_FACTOR"),
])
def test_bad_settings_exit_2_with_one_line(out: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                           message: str) -> None:
    with pytest.raises(SystemExit) as exited:
        run(out, *args)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1


def test_bad_input_exits_2_and_writes_nothing(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = out / "meter-2" / f"{DAY}.csv"
    path.write_text(path.read_text() + f"{DAY}T10:00:00+02:00,meter-2,oops,0.0000,0.0000\n")
    assert run(out, "--feeder", "1-LV-rural1") == 2
    err = capsys.readouterr().err
    assert err.startswith("grid: error: ") and "meter-2/2026-06-21.csv line 1442" in err
    assert err.count("\n") == 1
    assert not (out / "grid").exists()


def test_a_power_flow_that_does_not_converge_names_the_interval(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for meter in ("meter-2", "meter-3"):
        shutil.rmtree(out / meter)
    path = out / "meter-1" / f"{DAY}.csv"
    lines = path.read_text().splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith(f"{DAY}T10:00:00"))
    lines[row] = f"{DAY}T10:00:00+02:00,meter-1,20000.0000,0.0000,20000.0000"
    path.write_text("\n".join(lines) + "\n")
    assert run(out, "--feeder", "seed") == 2
    err = capsys.readouterr().err
    assert err.startswith("grid: error: power flow of 'seed' failed in interval 600 ")
    assert err.endswith(f"(the interval starting {DAY}T10:00:00+02:00)\n") and err.count("\n") == 1
    assert not (out / "grid").exists()


def test_missing_date_exits_2(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--output-dir", str(out), "--date", "2026-06-22", "--log-level", "WARNING"]) == 2
    assert capsys.readouterr().err == f"grid: error: no meter CSVs for 2026-06-22 in {out}\n"


def test_unwritable_output_exits_1_and_keeps_old_files(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(out, "--feeder", "1-LV-rural1", "--resolution-s", "3600") == 0
    folder = out / "grid" / "1-LV-rural1"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    (folder / f"{DAY}.summary.json.tmp").mkdir()  # the last temporary file cannot be created
    assert run(out, "--feeder", "1-LV-rural1", "--resolution-s", "900") == 1
    assert "cannot write" in capsys.readouterr().err
    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    assert after == before  # the three old files, untouched; no temporary file left


def test_environment_variables_set_the_feeder(out: Path) -> None:
    env = {"PVSIM_FEEDER": "1-LV-rural1", "PVSIM_RESOLUTION_S": "3600", "PYTHONPATH": str(ROOT), "PATH": "/usr/bin"}
    done = subprocess.run([sys.executable, "-m", "grid", "--output-dir", str(out), "--date", DAY], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert len(pd.read_csv(out / "grid" / "1-LV-rural1" / f"{DAY}.csv")) == 24


def test_help_names_the_feeders_and_the_meter_placement() -> None:
    done = subprocess.run([sys.executable, "-m", "grid", "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0
    assert "1-LV-semiurb4" in done.stdout and "i-th load" in done.stdout and "PVSIM_FEEDER" in done.stdout


def test_batch_with_a_feeder_writes_the_same_grid_files_for_every_day(tmp_path: Path) -> None:
    assert batch_main(["--date", "2026-06-20", "--days", "2", "--meters", "2", "--interval-s", "60", "--workers", "1",
                       "--output-dir", str(tmp_path), "--feeder", "1-LV-rural1", "--resolution-s", "900",
                       "--log-level", "WARNING"]) == 0
    folder = tmp_path / "grid" / "1-LV-rural1"
    batch_files = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert sorted(batch_files) == sorted(f"{day}{suffix}" for day in ("2026-06-20", DAY)
                                         for suffix in (".csv", ".buildings.csv", ".summary.json"))
    assert main(["--output-dir", str(tmp_path), "--date", DAY, "--feeder", "1-LV-rural1", "--resolution-s", "900",
                 "--log-level", "WARNING"]) == 0
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == batch_files


def test_batch_with_more_meters_than_loads_exits_2_before_writing(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert batch_main(["--date", DAY, "--meters", "2", "--interval-s", "3600", "--workers", "1",
                       "--output-dir", str(tmp_path), "--feeder", "seed", "--log-level", "WARNING"]) == 2
    assert capsys.readouterr().err == (
        "batch: error: --meters / PVSIM_METERS: 2 meters but feeder 'seed' has only "
        "1 load (one building per load); use --meters 1 or fewer, or a larger --feeder\n")
    assert not list(tmp_path.rglob("*.csv"))  # caught before any day is written (issue #22)


def test_batch_without_a_feeder_does_not_import_pandapower() -> None:
    done = subprocess.run([sys.executable, "-c", "import sys, batch.__main__, batch.settings; "
                           "print('pandapower' in sys.modules)"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.stdout.strip() == "False", done.stderr


@pytest.mark.parametrize("command", ["grid", "batch"])
def test_a_missing_power_flow_package_stops_with_one_line_naming_the_requirements_file(
        out: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    import batch.__main__
    import grid.__main__

    for module in (grid.__main__, batch.__main__):
        monkeypatch.setattr(module, "REQUIRED_MODULES", ("pandapower", "pvsim_no_such_module"))
    entry = main if command == "grid" else batch_main
    with pytest.raises(SystemExit) as stopped:
        entry(["--date", "2026-06-21", "--output-dir", str(out), "--feeder", "seed"])
    assert stopped.value.code == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{command}: error: pvsim_no_such_module not installed; install with: pip install -r requirements-grid.txt"]
    assert not (out / "grid").exists()
