"""Report CLI: the table of a generated day, plots, directory walking and error exits."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from models.plan import RunPlan
from models.pv.reference import reference_day_dw
from pv_simulator.report import format_table, main
from pv_simulator.summary import summarize, summarize_csv
from store.layout import find_csvs

ROOT = Path(__file__).resolve().parents[2]
BERLIN = ZoneInfo("Europe/Berlin")


def generate_day(output: Path, meter_id: str = "m1", interval_s: int = 60) -> Path:
    """A full day of one meter written by the real writer: random-walk load, reference PV curve."""
    from pv_simulator.writer import CsvStore

    readings = RunPlan((meter_id,), date(2026, 6, 21), 1, BERLIN, interval_s, 7, "random-walk").day(0)
    store = CsvStore(output, BERLIN, lambda day: reference_day_dw())
    for instant, power in zip(readings.timestamps_s.tolist(), readings.power_list[0], strict=True):
        store.add(meter_id, instant * 1000, power)
    store.write()
    return output / meter_id / "2026-06-21.csv"


@pytest.fixture(scope="module")
def day_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_day(tmp_path_factory.mktemp("output"))


def test_table_has_units_in_header_and_one_row_per_day(day_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(day_csv)]) == 0
    header, row, *rest = capsys.readouterr().out.splitlines()
    assert rest == []
    for column in ("meter", "date", "consumed [kWh]", "PV [kWh]", "import [kWh]", "export [kWh]",
                   "self-cons. [%]", "autarky [%]", "peak import [kW]", "peak export [kW]"):
        assert column in header
    summary = summarize_csv(day_csv)
    cells = row.split()
    assert cells[:4] == ["m1", "2026-06-21", "1440", "60"]
    assert cells[4:8] == [f"{summary.consumed_kwh:.3f}", f"{summary.pv_kwh:.3f}",
                          f"{summary.imported_kwh:.3f}", f"{summary.exported_kwh:.3f}"]
    assert float(cells[5]) == pytest.approx(26.7, abs=0.2)  # the reference curve's energy


def test_plot_writes_a_non_trivial_png_beside_the_csv(day_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(day_csv), "--plot"]) == 0
    png = day_csv.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 20_000
    capsys.readouterr()


def test_directory_is_walked_skipping_hidden_directories(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    generate_day(tmp_path, "m1", 900)
    generate_day(tmp_path, "m2", 900)
    hidden = tmp_path / ".pvsim" / "state.csv"
    hidden.parent.mkdir()
    hidden.write_text("not,a,day\n", encoding="utf-8")
    assert find_csvs(tmp_path) == [tmp_path / "m1" / "2026-06-21.csv", tmp_path / "m2" / "2026-06-21.csv"]
    assert main([str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:]] == ["m1", "m2"]


def test_unreadable_csv_is_reported_and_others_still_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    generate_day(tmp_path, "m1", 900)
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    assert main([str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "skipping" in captured.err and "notes.csv" in captured.err
    assert "m1" in captured.out


def test_missing_path_gives_one_line_on_stderr_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nowhere")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1 and "nowhere" in captured.err


def test_empty_directory_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path)]) == 1
    assert "no *.csv" in capsys.readouterr().err


def test_undefined_ratios_print_as_dash() -> None:
    table = format_table([summarize(["2026-01-01T00:00:00+01:00"], [1.0], [0.0], 1, meter_id="m9")])
    row = table.splitlines()[1].split()
    assert row[8] == "-"  # self-consumption without PV
    assert row[-1] == "-"  # no export peak


def test_module_runs_as_a_script_with_help() -> None:
    done = subprocess.run([sys.executable, "-m", "pv_simulator.report", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0
    assert "--plot" in done.stdout and "directory" in done.stdout


def test_module_exits_2_for_a_missing_path() -> None:
    done = subprocess.run([sys.executable, "-m", "pv_simulator.report", "/nonexistent/x.csv"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1


def test_meters_are_listed_in_the_grids_natural_order_and_plot_prints_each_png_it_wrote(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from grid.inputs import find_meters

    for meter_id in ("meter-10", "meter-2", "meter-1"):
        generate_day(tmp_path, meter_id, 900)
    assert main([str(tmp_path), "--plot"]) == 0
    out = capsys.readouterr()
    listed = [line.split()[0] for line in out.out.splitlines()[1:]]
    assert listed == ["meter-1", "meter-2", "meter-10"] == find_meters(tmp_path, date(2026, 6, 21))
    pngs = [tmp_path / meter_id / "2026-06-21.png" for meter_id in listed]
    assert out.err.splitlines() == [f"report: wrote {png}" for png in pngs]
    assert all(png.stat().st_size > 20_000 for png in pngs)
