"""The core pipeline on the real broker: meter -> RabbitMQ -> PV simulator -> daily CSVs."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path

import pytest

from pv_simulator.summary import summarize_csv
from tests.conftest import start_service
from tests.expect import assert_day_exact, plan_for

pytestmark = [pytest.mark.integration]

DAY = date(2026, 6, 21)


def run_meter(amqp_url: str, tmp_path: Path, *args: str) -> None:
    meter = start_service("meter", amqp_url, "--date", DAY.isoformat(), *args, log_path=tmp_path / "meter.log")
    assert meter.wait(timeout=180) == 0, (tmp_path / "meter.log").read_text()


def start_pv(amqp_url: str, tmp_path: Path):
    return start_service("pv_simulator", amqp_url, "--exit-when-done", "--output-dir", str(tmp_path / "out"),
                         log_path=tmp_path / "pv.log")


def test_one_meter_whole_day_writes_every_second_once(amqp_url: str, tmp_path: Path) -> None:
    pv = start_pv(amqp_url, tmp_path)
    run_meter(amqp_url, tmp_path)
    assert pv.wait(timeout=180) == 0, (tmp_path / "pv.log").read_text()
    assert assert_day_exact(tmp_path / "out", plan_for(DAY)) == 86_400
    # The day's summary is written beside it, from running totals, equal to summarising the file.
    written = json.loads((tmp_path / "out" / "meter-1" / "2026-06-21.summary.json").read_text())
    assert written == asdict(summarize_csv(tmp_path / "out" / "meter-1" / "2026-06-21.csv"))
    assert written["rows"] == 86_400 and 26.6 < written["pv_kwh"] < 26.8
    assert "meter-1 2026-06-21: consumed" in (tmp_path / "pv.log").read_text()


def test_three_meters_write_three_files(amqp_url: str, tmp_path: Path) -> None:
    pv = start_pv(amqp_url, tmp_path)
    run_meter(amqp_url, tmp_path, "--meters", "3", "--interval-s", "10", "--seed", "7")
    assert pv.wait(timeout=180) == 0, (tmp_path / "pv.log").read_text()
    plan = plan_for(DAY, meters=3, seed=7, interval_s=10)
    files = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").glob("*/*.csv"))
    assert files == [f"meter-{n}/2026-06-21.csv" for n in (1, 2, 3)]
    for meter in range(3):
        assert assert_day_exact(tmp_path / "out", plan, meter) == 8_640


def test_pv_simulator_started_after_the_meter_finished_still_gets_every_row(amqp_url: str, tmp_path: Path) -> None:
    run_meter(amqp_url, tmp_path, "--model", "uniform", "--seed", "3")
    pv = start_pv(amqp_url, tmp_path)
    assert pv.wait(timeout=180) == 0, (tmp_path / "pv.log").read_text()
    assert assert_day_exact(tmp_path / "out", plan_for(DAY, seed=3, model="uniform")) == 86_400


def test_multi_day_run_writes_one_file_per_local_day(amqp_url: str, tmp_path: Path) -> None:
    pv = start_pv(amqp_url, tmp_path)
    start = date(2026, 10, 24)  # spans the fall-back day (25 hours)
    meter = start_service("meter", amqp_url, "--date", start.isoformat(), "--days", "3", "--interval-s", "60",
                          log_path=tmp_path / "meter.log")
    assert meter.wait(timeout=180) == 0, (tmp_path / "meter.log").read_text()
    assert pv.wait(timeout=180) == 0, (tmp_path / "pv.log").read_text()
    plan = plan_for(start, days=3, interval_s=60)
    rows = [assert_day_exact(tmp_path / "out", plan, 0, d) for d in range(3)]
    assert rows == [1440, 1500, 1440]


@pytest.mark.parametrize("module", ["meter", "pv_simulator"])
def test_an_unreachable_broker_is_retried_with_logged_attempts_then_a_clear_error(module: str, tmp_path: Path) -> None:
    import socket
    import time

    with socket.socket() as probe:  # a local port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    args = ["--output-dir", str(tmp_path)] if module == "pv_simulator" else ["--date", "2026-06-21"]
    process = start_service(module, f"amqp://guest:guest@127.0.0.1:{port}/%2F", *args, log_path=tmp_path / "log",
                            broker_timeout_s="3")
    assert process.wait(timeout=30) == 1
    elapsed = time.monotonic() - started
    log = (tmp_path / "log").read_text()
    assert 3 <= elapsed < 15
    assert log.count("not reachable (attempt") >= 2
    assert f"broker at 127.0.0.1:{port} vhost '/' not reachable after 3 s" in log
    assert "Traceback" not in log


def test_speed_paces_emulated_time_against_the_wall_clock(amqp_url: str, tmp_path: Path) -> None:
    import time

    started = time.monotonic()
    run_meter(amqp_url, tmp_path, "--interval-s", "60", "--speed", "43200")  # a day in 2 s
    elapsed = time.monotonic() - started
    # The last reading (23:59 local) is due 86,340 emulated s = 1.9986 wall s after the first.
    assert elapsed >= 86_340 / 43_200
    assert "1440 readings confirmed" in (tmp_path / "meter.log").read_text()


def test_a_queue_declared_with_other_arguments_is_a_clear_fatal_error_not_a_reconnect_loop(
    amqp_url: str, tmp_path: Path
) -> None:
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    connection.channel().queue_declare("pvsim.pv_simulator", durable=True)  # classic, not quorum
    connection.close()
    pv = start_service("pv_simulator", amqp_url, "--output-dir", str(tmp_path / "out"), log_path=tmp_path / "pv.log")
    assert pv.wait(timeout=30) == 1
    log = (tmp_path / "pv.log").read_text()
    assert "broker refused: 406 PRECONDITION_FAILED - inequivalent arg" in log and "pvsim.pv_simulator" in log
    assert log.count("connected to broker") == 1  # no reconnect loop


def test_exit_when_done_gives_up_with_exit_1_when_no_meter_publishes_within_the_idle_limit(
        amqp_url: str, tmp_path: Path) -> None:
    pv = start_service("pv_simulator", amqp_url, "--exit-when-done", "--idle-exit-s", "1",
                       "--output-dir", str(tmp_path / "out"), log_path=tmp_path / "pv.log")
    assert pv.wait(timeout=60) == 1, (tmp_path / "pv.log").read_text()
    log_text = (tmp_path / "pv.log").read_text()
    assert "while waiting for a run to be announced (is the meter running?" in log_text


def test_idle_limit_does_not_stop_a_day_that_keeps_arriving(amqp_url: str, tmp_path: Path) -> None:
    pv = start_service("pv_simulator", amqp_url, "--exit-when-done", "--idle-exit-s", "5",
                       "--output-dir", str(tmp_path / "out"), log_path=tmp_path / "pv.log")
    run_meter(amqp_url, tmp_path, "--interval-s", "10", "--speed", "4000")  # 8,640 readings over about 20 s
    assert pv.wait(timeout=180) == 0, (tmp_path / "pv.log").read_text()
    assert assert_day_exact(tmp_path / "out", plan_for(DAY, interval_s=10)) == 8_640
