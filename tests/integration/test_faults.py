"""Every reading exactly once through crashes, broker restarts, SIGTERM and a full disk.

Each test runs the real services as processes against a real broker and ends with
the same check (:func:`tests.expect.assert_day_exact`): for each meter and day, the
CSV holds exactly the expected seconds, each once, with the values the meter published.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.broker_node import BrokerNode
from tests.conftest import queue_depth, start_service
from tests.expect import assert_day_exact, plan_for
from tests.feed import ResultsQueue, assert_results_equal_csv

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAY = date(2026, 6, 21)
METER_ARGS = ("--date", DAY.isoformat())


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> float:
    """Poll ``condition`` until true; returns the seconds waited. Fails the test on timeout."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout_s:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - start


def csv_rows(path: Path) -> int:
    """Complete data rows in a CSV so far (0 if it does not exist yet)."""
    try:
        return max(path.read_bytes().count(b"\n") - 1, 0)
    except FileNotFoundError:
        return 0


def finished(process: subprocess.Popen[bytes], log: Path, timeout_s: float = 180) -> None:
    code = process.wait(timeout=timeout_s)
    assert code == 0, f"exit code {code}:\n{log.read_text()[-4000:]}"


class Services:
    """Starts the meter and PV simulator of one test, with numbered log files."""

    def __init__(self, amqp_url: str, tmp_path: Path) -> None:
        self.amqp_url = amqp_url
        self.tmp = tmp_path
        self.out = tmp_path / "out"
        self.csv = self.out / "meter-1" / f"{DAY.isoformat()}.csv"
        self.count = 0

    def _log(self, name: str) -> Path:
        self.count += 1
        return self.tmp / f"{self.count:02d}-{name}.log"

    def pv(self, out: Path | None = None) -> tuple[subprocess.Popen[bytes], Path]:
        log = self._log("pv")
        return start_service("pv_simulator", self.amqp_url, "--exit-when-done", "--output-dir",
                             str(out or self.out), log_path=log, broker_timeout_s="120"), log

    def meter(self, *args: str) -> tuple[subprocess.Popen[bytes], Path]:
        log = self._log("meter")
        return start_service("meter", self.amqp_url, *METER_ARGS, *args, log_path=log, broker_timeout_s="120"), log


@pytest.mark.parametrize("victim", ["pv_simulator", "meter"])
def test_a_service_killed_mid_day_and_restarted_with_the_same_arguments_writes_every_reading_once(
    victim: str, amqp_url: str, tmp_path: Path
) -> None:
    services = Services(amqp_url, tmp_path)
    results = ResultsQueue(amqp_url)
    running = {"pv_simulator": services.pv(), "meter": services.meter()}
    wait_for(lambda: csv_rows(services.csv) >= 20_000, 60, "20,000 rows")
    running[victim][0].send_signal(signal.SIGKILL)
    running[victim][0].wait()
    killed_at = csv_rows(services.csv)
    restarted = time.monotonic()
    running[victim] = services.pv() if victim == "pv_simulator" else services.meter()
    finished(*running["meter"])
    finished(*running["pv_simulator"])
    print(f"\n{victim} SIGKILL at {killed_at} rows; restart to complete day {time.monotonic() - restarted:.1f} s")
    assert 0 < killed_at < 86_400
    if victim == "meter":  # the restarted meter republishes the run from the start
        dropped = re.findall(r"(\d+) duplicates dropped", running["pv_simulator"][1].read_text())
        assert int(dropped[-1]) >= killed_at
    assert assert_day_exact(services.out, plan_for(DAY)) == 86_400
    # The live feed is at-least-once across the kill: every interval's last result equals the CSV's means.
    assert assert_results_equal_csv(results.drain(wait_s=5), services.csv, "meter-1", 60) == 1440


@pytest.fixture(scope="module")
def private_broker() -> Iterator[BrokerNode]:
    node = BrokerNode()
    node.start()
    yield node
    node.destroy()


def test_broker_restart_mid_run_both_services_reconnect_and_the_day_completes(
    private_broker: BrokerNode, tmp_path: Path
) -> None:
    services = Services(private_broker.url, tmp_path)
    pv, pv_log = services.pv()
    meter, meter_log = services.meter("--speed", "20000")
    wait_for(lambda: csv_rows(services.csv) >= 10_000, 60, "10,000 rows")
    stopped_at = csv_rows(services.csv)
    began = time.monotonic()
    private_broker.restart()
    back = time.monotonic()
    finished(meter, meter_log)
    finished(pv, pv_log)
    print(f"\nbroker restart at {stopped_at} rows took {back - began:.1f} s; "
          f"day complete {time.monotonic() - back:.1f} s after the broker was back")
    assert stopped_at < 86_400
    assert "connection to broker lost" in meter_log.read_text()
    assert "connection to broker lost" in pv_log.read_text()
    assert assert_day_exact(services.out, plan_for(DAY)) == 86_400


def test_sigterm_stops_both_services_within_10s_the_meter_with_143_and_a_restart_continues(
    amqp_url: str, tmp_path: Path
) -> None:
    services = Services(amqp_url, tmp_path)
    pv, pv_log = services.pv()
    meter, meter_log = services.meter("--speed", "20000")
    wait_for(lambda: csv_rows(services.csv) >= 10_000, 60, "10,000 rows")
    # The meter's run is incomplete: non-zero, so compose's service_completed_successfully does not fire.
    for process, log, expected in ((meter, meter_log, 143), (pv, pv_log, 0)):
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=10)
        assert code == expected, log.read_text()[-3000:]
        print(f"\nSIGTERM -> exit {code} in {time.monotonic() - sent:.2f} s")
        assert "SIGTERM received" in log.read_text()
    stopped_at = csv_rows(services.csv)
    pv, pv_log = services.pv()
    meter, meter_log = services.meter()
    finished(meter, meter_log)
    finished(pv, pv_log)
    assert 0 < stopped_at < 86_400
    assert assert_day_exact(services.out, plan_for(DAY)) == 86_400


def test_output_directory_not_writable_exits_nonzero_and_leaves_readings_queued(
    amqp_url: str, tmp_path: Path
) -> None:
    services = Services(amqp_url, tmp_path)
    meter, meter_log = services.meter("--interval-s", "60")
    finished(meter, meter_log)
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the output directory should be\n")
    pv, pv_log = services.pv(blocked / "out")
    code = pv.wait(timeout=60)
    assert code != 0
    assert str(blocked / "out") in pv_log.read_text()
    assert queue_depth(amqp_url) == 1440 + 1  # every reading and the end announcement
    pv, pv_log = services.pv()
    finished(pv, pv_log)
    assert assert_day_exact(services.out, plan_for(DAY, interval_s=60)) == 1440


def test_disk_full_exits_nonzero_and_nothing_is_lost(amqp_url: str, tmp_path: Path,
                                                     small_disk: Path) -> None:
    services = Services(amqp_url, tmp_path)
    meter, meter_log = services.meter()
    finished(meter, meter_log)
    pv, pv_log = services.pv(small_disk)
    code = pv.wait(timeout=60)
    log = pv_log.read_text()
    assert code != 0
    assert "No space left on device" in log and str(small_disk) in log
    written = csv_rows(small_disk / "meter-1" / f"{DAY.isoformat()}.csv")
    queued = queue_depth(amqp_url)
    print(f"\ndisk full after {written} rows; {queued} messages still queued")
    assert written + queued >= 86_400 + 1  # each reading is on disk or still in the queue
    # Move what was written to a roomy disk: the PV simulator completes the day from there.
    subprocess.run(["cp", "-a", f"{small_disk}/.", str(services.out)], check=True)
    pv, pv_log = services.pv()
    finished(pv, pv_log)
    assert assert_day_exact(services.out, plan_for(DAY)) == 86_400


def test_an_unfinished_run_left_by_an_earlier_start_does_not_block_exit_when_done(
    amqp_url: str, tmp_path: Path
) -> None:
    # An earlier PV simulator recorded an end of run whose readings were lost with the broker.
    runs = tmp_path / "out" / ".pvsim" / "runs"
    runs.mkdir(parents=True)
    stale = {"run_id": "lost-run", "meters": ["meter-9"], "complete": False, "ends": {"meter-9": {
        "run_id": "lost-run", "meter_id": "meter-9", "first_s": 1781992800, "last_s": 1781992899,
        "interval_s": 1, "readings": 100, "remaining": 100}}}
    (runs / "lost-run.json").write_text(json.dumps(stale))
    services = Services(amqp_url, tmp_path)
    pv, pv_log = services.pv()
    meter, meter_log = services.meter("--interval-s", "60")
    finished(meter, meter_log)
    finished(pv, pv_log, timeout_s=60)
    assert "giving up on run lost-run" in pv_log.read_text()
    assert json.loads((runs / "lost-run.json").read_text())["abandoned"] is True
    assert assert_day_exact(services.out, plan_for(DAY, interval_s=60)) == 1440


@pytest.mark.parametrize("meter_speed", ["max", "2880"])
def test_after_a_disk_full_stop_and_a_restart_on_the_grown_disk_every_interval_is_published(
        amqp_url: str, tmp_path: Path, small_disk: Path, meter_speed: str) -> None:
    # Issue #21 §5 saw 19 intervals of rows written before such a stop never reach the web service:
    # the feed (what every web service's queue receives) must hold each interval of the CSV, with its means.
    feed = ResultsQueue(amqp_url)
    services = Services(amqp_url, tmp_path)
    pv, pv_log = services.pv(small_disk)
    meter, meter_log = services.meter("--speed", meter_speed)  # "max": done before the disk fills
    assert pv.wait(timeout=120) != 0 and "No space left on device" in pv_log.read_text()
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)  # the disk grows
    pv, pv_log = services.pv(small_disk)  # meanwhile the live meter goes on
    finished(meter, meter_log)
    finished(pv, pv_log)
    assert assert_day_exact(small_disk, plan_for(DAY)) == 86_400
    csv = small_disk / "meter-1" / f"{DAY.isoformat()}.csv"
    assert assert_results_equal_csv(feed.drain(), csv, "meter-1", 60) == 1440
