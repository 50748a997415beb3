"""Two PV simulators on one output directory: one consumes, the other stands by (single active consumer).

The standby takes over when the active one is killed (``kill -9``), and a paused active
one (SIGSTOP, then SIGCONT after the takeover) neither corrupts nor doubles anything
when it wakes: the day is exact and the live results equal the CSV's means.
"""

from __future__ import annotations

import signal
import subprocess
from datetime import date, datetime
from pathlib import Path

import pika
import pytest

from common import topology
from tests.expect import assert_day_exact, plan_for
from tests.feed import ResultsQueue, assert_results_equal_csv
from tests.integration.test_faults import Services, csv_rows, finished, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAY = date(2026, 6, 21)


def start_pair(services: Services) -> tuple[tuple[subprocess.Popen[bytes], Path], tuple[subprocess.Popen[bytes], Path]]:
    """The active PV simulator (consuming first) and the standby, both consuming before the meter starts."""
    active = services.pv()
    wait_for(lambda: "consuming from" in active[1].read_text(), 60, "the first PV simulator to consume")
    standby = services.pv()
    wait_for(lambda: "consuming from" in standby[1].read_text(), 60, "the standby to register")
    return active, standby


def takeover(services: Services, rows_before: int) -> float:
    """Seconds until the day file grows past ``rows_before`` (new rows from the standby)."""
    return wait_for(lambda: csv_rows(services.csv) > rows_before, 60, "the standby to write")


def test_the_standby_takes_over_from_a_killed_active_pv_simulator_with_nothing_lost_or_doubled(
    amqp_url: str, tmp_path: Path
) -> None:
    services = Services(amqp_url, tmp_path)
    results = ResultsQueue(amqp_url)
    (active, _active_log), (standby, standby_log) = start_pair(services)
    meter, meter_log = services.meter()
    wait_for(lambda: csv_rows(services.csv) >= 20_000, 60, "20,000 rows")
    assert csv_rows(services.csv) < 86_400
    active.send_signal(signal.SIGKILL)
    killed = datetime.now()
    active.wait()
    killed_at = csv_rows(services.csv)
    took_s = takeover(services, killed_at)
    wait_for(lambda: "re-reading day files" in standby_log.read_text(), 30, "the standby's takeover line")
    line = next(x for x in standby_log.read_text().splitlines() if "re-reading day files" in x)
    delivered_s = (datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f") - killed).total_seconds()
    print(f"\nactive PV simulator killed at {killed_at} rows; the standby got the first redelivery "
          f"{delivered_s:.2f} s later and wrote new rows {took_s:.2f} s later")
    finished(meter, meter_log)
    finished(standby, standby_log)
    assert "rows written" in standby_log.read_text()
    assert assert_day_exact(services.out, plan_for(DAY)) == 86_400
    assert assert_results_equal_csv(results.drain(wait_s=5), services.csv, "meter-1", 60) == 1440


def test_a_paused_active_pv_simulator_that_wakes_after_the_takeover_corrupts_and_doubles_nothing(
    amqp_url: str, tmp_path: Path
) -> None:
    # A 2 s heartbeat: the broker notices the paused process after about 4-6 s and hands its readings over.
    services = Services(amqp_url + "?heartbeat=2", tmp_path)
    results = ResultsQueue(amqp_url)
    (paused, paused_log), (standby, _standby_log) = start_pair(services)
    meter, meter_log = services.meter()
    wait_for(lambda: csv_rows(services.csv) >= 20_000, 60, "20,000 rows")
    paused.send_signal(signal.SIGSTOP)
    stopped_at = csv_rows(services.csv)
    took_s = takeover(services, stopped_at)
    wait_for(lambda: csv_rows(services.csv) > stopped_at + 5_000, 60, "the standby to write 5,000 rows")
    paused.send_signal(signal.SIGCONT)  # it writes what it had queued (if anything), then finds its connection gone
    wait_for(lambda: paused_log.read_text().count("connected to broker") >= 2, 60, "the woken one to reconnect")
    woke_at = csv_rows(services.csv)
    # Now the woken one, with its stale index and run state, is the standby: kill the other, it takes over.
    standby.send_signal(signal.SIGKILL)
    standby.wait()
    killed_at = csv_rows(services.csv)
    finished(meter, meter_log)
    finished(paused, paused_log)
    log = paused_log.read_text()
    print(f"\npaused at {stopped_at} rows; the standby wrote {took_s:.2f} s later; woken at {woke_at} rows "
          f"(noticed the other's rows before writing: {'another process appended' in log}); "
          f"the standby killed at {killed_at} rows; the woken one completed the day")
    assert stopped_at < woke_at <= killed_at < 86_400
    assert assert_day_exact(services.out, plan_for(DAY)) == 86_400
    assert assert_results_equal_csv(results.drain(wait_s=5), services.csv, "meter-1", 60) == 1440


def test_a_queue_declared_by_an_older_version_is_refused_with_what_to_do(amqp_url: str, tmp_path: Path) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    connection.channel().queue_declare(topology.QUEUE, durable=True, arguments={  # before single active consumer
        "x-queue-type": "quorum", "x-delivery-limit": 20, "x-dead-letter-exchange": topology.DEAD_LETTER_EXCHANGE})
    connection.close()
    pv, log = Services(amqp_url, tmp_path).pv()
    assert pv.wait(timeout=60) == 1
    text = log.read_text()
    assert "PRECONDITION_FAILED" in text and "x-single-active-consumer" in text and "delete a queue" in text
