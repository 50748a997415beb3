"""The day-file store (format, reader): one definition used by the services, batch mode and the grid."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from common.clock import LocalDay
from store.format import BATTERY_HEADER, HEADER, SMALL_BATCH_ROWS, format_day_rows, parse_row, timestamp_text

AUTUMN = LocalDay(date(2026, 10, 25), ZoneInfo("Europe/Berlin"))  # 25 hours: 02:00-03:00 twice


def test_the_readers_read_what_the_formatter_writes(tmp_path: Path) -> None:
    from store.reader import read_day_csv, read_meter_day

    seconds = AUTUMN.start_s + np.arange(SMALL_BATCH_ROWS + 2) * 900
    values = np.column_stack([seconds * 1000, np.full(seconds.size, 12_345), np.full(seconds.size, 2_345)])
    path = tmp_path / "2026-10-25.csv"
    path.write_bytes(HEADER.encode() + format_day_rows("meter-1", AUTUMN, values))
    epoch_s, powers = read_meter_day(path, "meter-1", AUTUMN)
    np.testing.assert_array_equal(epoch_s, seconds)
    np.testing.assert_allclose(powers, [[1.2345, 0.2345]] * seconds.size)
    frame = read_day_csv(path)
    assert (frame["utc"].astype("int64") // 10**9).tolist() == seconds.tolist()
    assert frame["net_power_kw"].tolist() == [1.0] * seconds.size
    for line in path.read_text().splitlines()[1:]:
        assert parse_row(line) is not None


def test_the_vectorised_reader_takes_the_battery_header(tmp_path: Path) -> None:
    from store.reader import read_meter_day

    path = tmp_path / "2026-10-25.csv"
    path.write_text(BATTERY_HEADER + "2026-10-25T00:00:00+02:00,meter-1,1.0000,0.2500,1.2500,0.5000,0.1000\n")
    np.testing.assert_allclose(read_meter_day(path, "meter-1", AUTUMN)[1], [[1.5, 0.25]])


def test_one_output_error_for_the_pv_simulator_batch_and_the_grid() -> None:
    from batch import run as batch_run
    from grid import output as grid_output
    from store import daystore
    from store.format import OutputError

    assert daystore.OutputError is batch_run.OutputError is grid_output.OutputError is OutputError


def test_vectorised_rows_are_the_rows_made_one_by_one_across_the_clock_change() -> None:
    # 20 s around the change back (02:59:50+02:00 -> 02:00:09+01:00) and 20 s an hour later.
    first_s = AUTUMN.start_s + 3 * 3600 - 10
    seconds = np.concatenate([np.arange(first_s, first_s + 20), np.arange(first_s + 3600, first_s + 3620)])
    rng = np.random.default_rng(7)
    values = np.column_stack([seconds * 1000, rng.integers(-200_000, 2_000_000, seconds.size),
                              rng.integers(0, 100_000, seconds.size)]).astype(np.int64)
    assert len(values) >= SMALL_BATCH_ROWS
    vectorised = format_day_rows("meter-1", AUTUMN, values)
    one_by_one = b"".join(format_day_rows("meter-1", AUTUMN, values[n:n + 1]) for n in range(len(values)))
    assert vectorised == one_by_one
    lines = vectorised.decode().splitlines()
    assert lines[0].startswith("2026-10-25T02:59:50+02:00,meter-1,")
    assert lines[-1].startswith("2026-10-25T03:00:09+01:00,meter-1,")
    meter_kw, pv_kw, net_kw = (float(text) for text in lines[0].split(",")[2:])
    assert round(meter_kw - pv_kw, 4) == net_kw
    battery = (rng.integers(-50_000, 50_000, seconds.size), rng.integers(0, 100_000, seconds.size))
    vectorised = format_day_rows("meter-1", AUTUMN, values, battery=battery)
    assert vectorised == b"".join(format_day_rows("meter-1", AUTUMN, values[n:n + 1],
                                                  battery=(battery[0][n:n + 1], battery[1][n:n + 1]))
                                  for n in range(len(values)))
    meter_kw, pv_kw, net_kw, battery_kw, _soc_kwh = (float(text) for text in vectorised.split(b"\n")[0].split(b",")[2:])
    assert round(meter_kw - pv_kw + battery_kw, 4) == net_kw


def test_a_sub_second_instant_keeps_its_milliseconds() -> None:
    assert timestamp_text(AUTUMN, AUTUMN.start_s * 1000 + 1_250) == "2026-10-25T00:00:01.250+02:00"
