"""The PV simulator with a home battery (issue #19), through the fake broker seams: the same bytes as batch mode,
the state rebuilt exactly after a kill, late readings recomputing their day and the days after it."""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pytest

import pv_simulator.flush as flush
from batch.__main__ import main as batch_main
from common.schema import format_utc, parse_interval_result
from models.battery_parameters import BatteryParameters
from pv_simulator.service import PvSimulatorService
from tests.expect import assert_battery_balance_closes, plan_for
from tests.fakes import FakeChannel
from tests.fakes.pv import pv_service, tick
from tests.unit.test_battery import reference_self_consumption

DAY = date(2026, 6, 20)
DAYS, METERS, INTERVAL_S = 2, 2, 60
BATTERY = ["--battery-kwh", "6", "--battery-kw", "2.5", "--battery-efficiency", "0.9",
           "--battery-initial-soc-percent", "50"]
PLAN = plan_for(DAY, meters=METERS, days=DAYS, seed=3, interval_s=INTERVAL_S)


@pytest.fixture(autouse=True)
def flush_at_every_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flush, "FLUSH_INTERVAL_S", 0.0)
    monkeypatch.setattr(flush, "FLUSH_DUTY", 0.0)


def run_batch(output: Path, *extra: str) -> Path:
    assert batch_main(["--output-dir", str(output), "--log-level", "WARNING", "--date", DAY.isoformat(),
                       "--days", str(DAYS), "--meters", str(METERS), "--interval-s", str(INTERVAL_S), "--seed", "3",
                       "--timezone", "Europe/Berlin", *BATTERY, *extra]) == 0
    return output


@pytest.fixture(scope="module")
def batch_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_batch(tmp_path_factory.mktemp("batch"))


def readings() -> list[tuple[str, bytes]]:
    """(routing key, body) of every reading of the run, in the order the meter publishes them."""
    out = []
    for index in range(DAYS):
        day = PLAN.day(index)
        for k, second in enumerate(day.timestamps_s.tolist()):
            for m, meter_id in enumerate(PLAN.meter_ids):
                body = orjson.dumps({"schema": 1, "meter_id": meter_id, "seq": k, "timestamp": format_utc(second),
                                     "power_w": float(day.power_w[m][k])})
                out.append((f"meter.{meter_id}.reading", body))
    return out


def ends() -> list[tuple[str, bytes]]:
    first = PLAN.day(0).timestamps_s[0]
    count = sum(PLAN.readings_per_day)
    return [(f"meter.{meter_id}.end", json.dumps({
        "schema": 1, "meter_id": meter_id, "run_id": "run-1", "meters": list(PLAN.meter_ids), "readings": count,
        "interval_s": INTERVAL_S, "first_timestamp": format_utc(int(first)),
        "last_timestamp": format_utc(int(first) + (count - 1) * INTERVAL_S)}).encode())
        for meter_id in PLAN.meter_ids]


def simulator(output: Path, results_interval_s: int = 60, **more: object) -> tuple[PvSimulatorService, FakeChannel]:
    settings = BatteryParameters.model_validate({
        "battery_kwh": 6, "battery_kw": 2.5, "battery_efficiency": 0.9, "battery_initial_soc_percent": 50, **more})
    return pv_service(output, "Europe/Berlin", exit_when_done=True, battery=settings, interval_s=INTERVAL_S,
                      results_interval_s=results_interval_s)


def deliver(service: PvSimulatorService, channel: FakeChannel, messages: list[tuple[str, bytes]],
            every: int = 500) -> None:
    for n, (key, body) in enumerate(messages, start=1):
        channel.deliver(key, body)
        if n % every == 0:
            settle(service, channel)


def settle(service: PvSimulatorService, channel: FakeChannel) -> None:
    """Flush what waits, the broker confirming every publish."""
    for _ in range(3):
        tick(service)
        channel.confirm()


def finish(service: PvSimulatorService, channel: FakeChannel) -> None:
    for _ in range(200):
        if service.finished:
            break
        tick(service)
        channel.confirm()
    assert service.finished and service.exit_code == 0


def assert_same_files(output: Path, expected: Path) -> None:
    names = sorted(p.relative_to(expected) for p in expected.rglob("meter-*/*") if p.is_file())
    assert names and names == sorted(p.relative_to(output) for p in output.rglob("meter-*/*") if p.is_file())
    for name in names:
        assert (output / name).read_bytes() == (expected / name).read_bytes(), name


def test_a_run_with_a_battery_writes_the_bytes_batch_mode_writes(tmp_path: Path, batch_output: Path) -> None:
    service, channel = simulator(tmp_path)
    deliver(service, channel, readings() + ends())
    finish(service, channel)
    assert_same_files(tmp_path, batch_output)
    summary = json.loads((tmp_path / "meter-1" / "2026-06-21.summary.json").read_text())
    assert summary["battery"]["charged_kwh"] > 1 and isinstance(summary["battery"]["soc_end_kwh"], float)


def test_a_grid_friendly_battery_curtails_as_batch_mode_does(tmp_path: Path) -> None:
    expected = run_batch(tmp_path / "batch", "--battery-strategy", "grid-friendly",
                         "--battery-feed-in-limit-percent", "10", "--battery-kwh", "1")
    service, channel = simulator(tmp_path / "pv", battery_strategy="grid-friendly", battery_feed_in_limit_percent=10,
                                 battery_kwh=1)
    deliver(service, channel, readings() + ends())
    finish(service, channel)
    assert_same_files(tmp_path / "pv", expected)
    summary = json.loads((tmp_path / "pv" / "meter-1" / "2026-06-20.summary.json").read_text())
    assert summary["battery"]["curtailed_kwh"] > 0


def test_after_a_kill_mid_day_the_state_is_rebuilt_from_the_disk_exactly(tmp_path: Path, batch_output: Path) -> None:
    messages = readings()
    cut = len(messages) * 3 // 4  # on the second day: the first day has no summary yet, so it is replayed
    first, channel = simulator(tmp_path)
    deliver(first, channel, messages[:cut])
    first.store.write()  # on disk; the process is killed before acking the rest
    with (tmp_path / "meter-1" / "2026-06-21.csv").open("ab") as handle:
        handle.write(b"2026-06-21T18:00:00+02:00,meter-1,0.12")  # a torn last line
    second, channel = simulator(tmp_path)  # a new process: no state in memory
    deliver(second, channel, messages[cut - 700:] + ends())  # unacked ones come again, then the rest
    finish(second, channel)
    assert second.store.battery is not None and second.store.battery.replays >= 2
    assert_same_files(tmp_path, batch_output)


def test_a_late_reading_recomputes_its_day_and_the_later_days(tmp_path: Path, batch_output: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pv_simulator")
    messages = readings()
    late = [messages[k] for k in range(900, 1000)]  # the first day's afternoon of both meters
    early = [m for k, m in enumerate(messages) if not 900 <= k < 1000]
    service, channel = simulator(tmp_path)
    deliver(service, channel, early)
    settle(service, channel)
    assert (tmp_path / "meter-1" / "2026-06-21.csv").exists()
    deliver(service, channel, late + ends())
    finish(service, channel)
    assert "meter-1: 1 later day(s) recomputed after a late reading on 2026-06-20" in caplog.text
    assert_same_files(tmp_path, batch_output)


def test_the_files_columns_recompute_the_battery_and_the_balance_closes(tmp_path: Path) -> None:
    service, channel = simulator(tmp_path)
    deliver(service, channel, readings() + ends())
    finish(service, channel)
    frame = pd.concat([pd.read_csv(p) for p in sorted((tmp_path / "meter-2").glob("*.csv"))], ignore_index=True)
    powers, socs = reference_self_consumption(frame.meter_power_kw.tolist(), frame.pv_power_kw.tolist(),
                                              [60.0] * len(frame), 6.0, 2.5, 0.9, 3.0)
    np.testing.assert_allclose(frame.battery_power_kw, powers, rtol=0, atol=0.5e-4 + 1e-9)
    np.testing.assert_allclose(frame.battery_soc_kwh, socs, rtol=0, atol=0.5e-4 + 1e-9)
    charged, discharged = assert_battery_balance_closes(frame, INTERVAL_S, 0.9, 3.0)
    assert charged > 1 and discharged > 1


def test_the_interval_results_carry_the_batterys_mean_power_and_its_state_at_the_intervals_end(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    service, channel = simulator(tmp_path, results_interval_s=300)
    messages = readings()
    late = [messages[k] for k in range(1680, 1780)]  # an afternoon, charging: its day and the next recomputed
    deliver(service, channel, [m for k, m in enumerate(messages) if not 1680 <= k < 1780])
    deliver(service, channel, late + ends())
    finish(service, channel)
    frame = pd.concat([pd.read_csv(p) for p in sorted((tmp_path / "meter-1").glob("*.csv"))], ignore_index=True)
    frame["start"] = pd.to_datetime(frame.timestamp, utc=True).astype("int64") // 10**9 // 300 * 300
    expected = frame.groupby("start").agg(battery=("battery_power_kw", "mean"), soc=("battery_soc_kwh", "last"),
                                          net=("net_power_kw", "mean"), readings=("timestamp", "size"))
    latest = {}
    for published in channel.published:
        if published.routing_key == "result.meter-1.interval":
            result = parse_interval_result(published.body)
            latest[int(result.interval_start.timestamp())] = result
    assert sorted(latest) == sorted(expected.index)
    for start, row in expected.iterrows():
        result = latest[int(start)]
        assert result.readings == row.readings
        assert result.battery_power_kw == pytest.approx(row.battery, abs=1e-6)
        assert result.battery_soc_kwh == pytest.approx(row.soc, abs=1e-9)
        assert result.net_power_kw == pytest.approx(row.net, abs=1e-6)
