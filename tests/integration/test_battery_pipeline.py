"""A home battery through the broker (issue #19, stateful exactly once): a run through RabbitMQ, a run in which
the PV simulator is SIGKILLed mid-day and restarted, and batch mode write byte-identical day files and summaries;
the files' own meter and PV columns recompute the battery, and the energy balance closes."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from batch.__main__ import main as batch_main
from tests.conftest import start_service
from tests.expect import assert_battery_balance_closes
from tests.integration.test_faults import csv_rows, finished, wait_for
from tests.unit.test_battery import reference_self_consumption

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAY = date(2026, 6, 20)
RUN = ("--date", DAY.isoformat(), "--days", "2", "--interval-s", "5", "--seed", "7")
BATTERY = ("--battery-kwh", "5", "--battery-kw", "2", "--battery-efficiency", "0.92",
           "--battery-initial-soc-percent", "40")
SECOND_DAY_CSV = Path("meter-1") / "2026-06-21.csv"


def pv(amqp_url: str, out: Path, log: Path) -> subprocess.Popen[bytes]:
    return start_service("pv_simulator", amqp_url, "--exit-when-done", "--output-dir", str(out), "--interval-s", "5",
                         *BATTERY, log_path=log, broker_timeout_s="120")


def meter(amqp_url: str, log: Path) -> subprocess.Popen[bytes]:
    return start_service("meter", amqp_url, *RUN, log_path=log, broker_timeout_s="120")


def start_run(amqp_url: str, tmp_path: Path) -> tuple[Path, subprocess.Popen[bytes], subprocess.Popen[bytes]]:
    """(output folder, PV simulator, meter) of a run just started, logging to 01-pv.log and meter.log."""
    out = tmp_path / "out"
    return out, pv(amqp_url, out, tmp_path / "01-pv.log"), meter(amqp_url, tmp_path / "meter.log")


def files_of(output: Path) -> dict[str, bytes]:
    return {str(p.relative_to(output)): p.read_bytes() for p in sorted(output.glob("meter-*/*")) if p.is_file()}


@pytest.fixture(scope="module")
def batch_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    output = tmp_path_factory.mktemp("batch")
    assert batch_main(["--output-dir", str(output), "--log-level", "WARNING", *RUN, *BATTERY]) == 0
    return files_of(output)


def test_a_run_with_a_battery_through_the_broker_writes_the_bytes_batch_mode_writes(
    amqp_url: str, tmp_path: Path, batch_files: dict[str, bytes]
) -> None:
    out, simulator, source = start_run(amqp_url, tmp_path)
    finished(source, tmp_path / "meter.log")
    finished(simulator, tmp_path / "01-pv.log")
    written = files_of(out)
    assert sorted(written) == sorted(batch_files) and len(written) == 4  # two days: CSV and summary each
    assert written == batch_files
    frame = pd.concat([pd.read_csv(out / name) for name in sorted(written) if name.endswith(".csv")],
                      ignore_index=True)
    powers, socs = reference_self_consumption(frame.meter_power_kw.tolist(), frame.pv_power_kw.tolist(),
                                              [5.0] * len(frame), 5.0, 2.0, 0.92, 2.0)
    np.testing.assert_allclose(frame.battery_power_kw, powers, rtol=0, atol=0.5e-4 + 1e-9)
    np.testing.assert_allclose(frame.battery_soc_kwh, socs, rtol=0, atol=0.5e-4 + 1e-9)
    charged, discharged = assert_battery_balance_closes(frame, 5, 0.92, 2.0)
    assert charged > 1 and discharged > 1


def test_the_pv_simulator_killed_mid_day_and_restarted_writes_the_bytes_batch_mode_writes(
    amqp_url: str, tmp_path: Path, batch_files: dict[str, bytes]
) -> None:
    out, simulator, source = start_run(amqp_url, tmp_path)
    # Around the second day's noon (12:30, the battery charging): on a busy machine the kill lands thousands of
    # rows later, still with a charged battery and before the day's end. The first day may have no summary
    # yet, so the restart may replay both days.
    wait_for(lambda: csv_rows(out / SECOND_DAY_CSV) >= 9_000, 120, "9,000 rows of the second day")
    simulator.send_signal(signal.SIGKILL)
    simulator.wait()
    killed_at = csv_rows(out / SECOND_DAY_CSV)
    restarted = time.monotonic()
    simulator = pv(amqp_url, out, tmp_path / "02-pv.log")
    finished(source, tmp_path / "meter.log")
    finished(simulator, tmp_path / "02-pv.log")
    rebuilt = [line for line in (tmp_path / "02-pv.log").read_text().splitlines() if "battery state rebuilt" in line]
    print(f"\nPV simulator SIGKILL at {killed_at} rows of the second day; restart to done "
          f"{time.monotonic() - restarted:.1f} s; {rebuilt[0].split(': ', 1)[-1] if rebuilt else 'no rebuild logged'}")
    assert rebuilt and float(rebuilt[0].rsplit(": ", 1)[-1].split()[0]) > 0.1  # a state worth rebuilding
    assert 0 < killed_at < 17_280
    assert files_of(out) == batch_files
