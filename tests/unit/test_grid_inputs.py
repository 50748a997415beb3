"""Reading the meters' day CSVs into interval means, and the vectorised CSV text of the results."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from batch.__main__ import main as batch_main
from common.clock import LocalDay
from grid.inputs import InputError, find_meters, load_day_inputs
from store import format as csv_text

BERLIN = ZoneInfo("Europe/Berlin")
DAY = date(2026, 6, 21)


@pytest.fixture(scope="module")
def meters_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three meters' CSVs of 2026-06-21 every 10 s, written by batch mode."""
    output = tmp_path_factory.mktemp("meters")
    assert batch_main(["--date", DAY.isoformat(), "--meters", "3", "--interval-s", "10", "--workers", "1",
                       "--output-dir", str(output)]) == 0
    return output


@pytest.fixture
def copy_of(meters_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "out"
    shutil.copytree(meters_dir, target)
    return target


def pandas_means(path: Path, resolution_s: int) -> pd.DataFrame:
    frame = pd.read_csv(path)
    utc = pd.to_datetime(frame["timestamp"], utc=True)
    start = pd.Timestamp(DAY, tz=BERLIN).tz_convert("UTC")
    frame["bucket"] = ((utc - start).dt.total_seconds() // resolution_s).astype(int)
    return frame.groupby("bucket")[["meter_power_kw", "pv_power_kw"]].mean()


def test_interval_means_match_pandas(meters_dir: Path) -> None:
    inputs = load_day_inputs(meters_dir, DAY, BERLIN, 900)
    assert inputs.meter_ids == ("meter-1", "meter-2", "meter-3")
    assert inputs.meter_kw.shape == (96, 3)
    expected = pandas_means(meters_dir / "meter-2" / "2026-06-21.csv", 900)
    assert inputs.meter_kw[:, 1] == pytest.approx(expected["meter_power_kw"].to_numpy(), abs=1e-9)
    assert inputs.pv_kw[:, 1] == pytest.approx(expected["pv_power_kw"].to_numpy(), abs=1e-9)


def test_rows_out_of_order_give_the_same_result(meters_dir: Path, copy_of: Path) -> None:
    path = copy_of / "meter-1" / "2026-06-21.csv"
    header, *rows = path.read_text().splitlines()
    np.random.default_rng(0).shuffle(rows)
    path.write_text("\n".join([header, *rows]) + "\n")
    shuffled = load_day_inputs(copy_of, DAY, BERLIN, 60)
    ordered = load_day_inputs(meters_dir, DAY, BERLIN, 60)
    assert np.allclose(shuffled.meter_kw, ordered.meter_kw, atol=1e-12)


def test_intervals_finer_than_the_readings_hold_the_last_reading(meters_dir: Path) -> None:
    inputs = load_day_inputs(meters_dir, DAY, BERLIN, 1)
    frame = pd.read_csv(meters_dir / "meter-3" / "2026-06-21.csv")
    assert inputs.meter_kw.shape == (86_400, 3)
    assert inputs.meter_kw[:10, 2] == pytest.approx([frame["meter_power_kw"][0]] * 10)
    assert inputs.meter_kw[10, 2] == pytest.approx(frame["meter_power_kw"][1])


def test_numbers_in_another_format_fall_back_to_pandas(copy_of: Path) -> None:
    path = copy_of / "meter-1" / "2026-06-21.csv"
    frame = pd.read_csv(path)
    frame["meter_power_kw"] = frame["meter_power_kw"].map(lambda v: f"{v:.2e}")
    frame.to_csv(path, index=False)
    inputs = load_day_inputs(copy_of, DAY, BERLIN, 10)
    assert inputs.meter_kw[:, 0] == pytest.approx(frame["meter_power_kw"].astype(float).to_numpy())


def test_a_day_when_clocks_go_back_has_25_hours(tmp_path: Path) -> None:
    assert batch_main(["--date", "2026-10-25", "--interval-s", "60", "--workers", "1",
                       "--output-dir", str(tmp_path)]) == 0
    inputs = load_day_inputs(tmp_path, date(2026, 10, 25), BERLIN, 900)
    assert inputs.meter_kw.shape == (100, 1)
    text = csv_text.join_rows([csv_text.timestamps(inputs.day, inputs.interval_starts_s)]).decode().splitlines()
    assert text[8:13] == ["2026-10-25T02:00:00+02:00", "2026-10-25T02:15:00+02:00", "2026-10-25T02:30:00+02:00",
                          "2026-10-25T02:45:00+02:00", "2026-10-25T02:00:00+01:00"]


@pytest.mark.parametrize(("line", "message"), [
    ("2026-06-21T00:00:05+02:00,meter-1,abc,0.0000,0.0000", "line 3"),
    ("2026-06-22T00:00:05+02:00,meter-1,1.0000,0.0000,1.0000", "timestamp is not 2026-06-21"),
    ("2026-06-21T00:00:05+03:00,meter-1,1.0000,0.0000,1.0000", "is not a time of 2026-06-21"),
    ("2026-06-21T00:00:05+02:00,meter-9,1.0000,0.0000,1.0000", "meter_id is not meter-1"),
    ("2026-06-21T00:00:05+02:00,meter-1,nan,0.0000,0.0000", "line 3"),
    ("garbage", "line 3"),
])
def test_unreadable_rows_name_the_file_and_line(copy_of: Path, line: str, message: str) -> None:
    path = copy_of / "meter-1" / "2026-06-21.csv"
    lines = path.read_text().splitlines()
    lines.insert(2, line)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=message) as raised:
        load_day_inputs(copy_of, DAY, BERLIN, 60)
    assert "meter-1/2026-06-21.csv" in str(raised.value)


def test_a_meter_without_the_days_file_is_named(copy_of: Path) -> None:
    (copy_of / "meter-2" / "2026-06-21.csv").rename(copy_of / "meter-2" / "2026-06-20.csv")
    with pytest.raises(InputError, match=r"missing 2026-06-21\.csv for meter-2"):
        find_meters(copy_of, DAY)


def test_a_date_without_files_and_a_missing_directory_are_errors(meters_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no meter CSVs for 2026-06-22"):
        find_meters(meters_dir, date(2026, 6, 22))
    with pytest.raises(InputError, match="does not exist"):
        find_meters(tmp_path / "nowhere", DAY)


def test_wrong_header_and_empty_file_are_errors(copy_of: Path) -> None:
    (copy_of / "meter-1" / "2026-06-21.csv").write_text("time,power\n1,2\n")
    with pytest.raises(InputError, match="header"):
        load_day_inputs(copy_of, DAY, BERLIN, 60)
    (copy_of / "meter-1" / "2026-06-21.csv").write_text("timestamp,meter_id,meter_power_kw,pv_power_kw,net_power_kw\n")
    with pytest.raises(InputError, match="no readings"):
        load_day_inputs(copy_of, DAY, BERLIN, 60)


def test_fixed_formats_like_python() -> None:
    values = np.concatenate([np.random.default_rng(1).normal(0, 50, 2000), [0.0, 1e-9, 0.5, 99.99996, 1234.5]])
    text = csv_text.join_rows([csv_text.fixed(values, 4), csv_text.fixed(values, 0)]).decode().splitlines()
    expected = [f"{v:.4f},{v:.0f}".replace("-0.0000", "0.0000") for v in values]
    expected = [e if not e.endswith(",-0") else e[:-3] + ",0" for e in expected]
    assert text == expected


def test_timestamps_are_local_with_offset() -> None:
    day = LocalDay(DAY, BERLIN)
    text = csv_text.join_rows([csv_text.timestamps(day, day.timestamps_s(3600)[[0, 14]])]).decode()
    assert text == "2026-06-21T00:00:00+02:00\n2026-06-21T14:00:00+02:00\n"
