"""The live results feed from a broker run: interval means equal the CSV's, re-published on late rows."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import orjson
import pika
import pytest

from common import topology
from common.schema import format_utc, parse_interval_result, parse_run_complete
from tests.conftest import start_service
from tests.feed import ResultsQueue, assert_results_equal_csv

pytestmark = [pytest.mark.integration]

DAY = date(2026, 6, 21)
START = 1_782_000_000  # 2026-06-21T00:00:00Z


def test_a_broker_run_publishes_every_interval_with_the_csv_means_then_run_complete(
    amqp_url: str, tmp_path: Path
) -> None:
    results = ResultsQueue(amqp_url)
    pv = start_service("pv_simulator", amqp_url, "--exit-when-done", "--output-dir", str(tmp_path / "out"),
                       "--results-interval-s", "300", log_path=tmp_path / "pv.log")
    meter = start_service("meter", amqp_url, "--date", DAY.isoformat(), "--meters", "2", "--interval-s", "10",
                          log_path=tmp_path / "meter.log")
    assert meter.wait(timeout=180) == 0, (tmp_path / "meter.log").read_text()
    assert pv.wait(timeout=180) == 0, (tmp_path / "pv.log").read_text()
    messages = results.drain(wait_s=5)
    for meter_id in ("meter-1", "meter-2"):
        csv = tmp_path / "out" / meter_id / f"{DAY.isoformat()}.csv"
        assert assert_results_equal_csv(messages, csv, meter_id, 300) == 288
        keys = [key for key, _ in messages if f".{meter_id}." in key]
        assert keys[-1] == topology.run_routing_key(meter_id), "run complete must follow the meter's last interval"
        assert keys.count(topology.run_routing_key(meter_id)) == 1
        notice = parse_run_complete(messages[[k for k, _ in messages].index(keys[-1])][1])
        assert notice.readings == 8640 and notice.interval_s == 10 and notice.meters == ["meter-1", "meter-2"]
    interval_bodies = [body for key, body in messages if key.endswith(".interval")]
    assert len(interval_bodies) == 2 * 288  # a normal run publishes each interval once


def publish(channel: pika.adapters.blocking_connection.BlockingChannel, key: str, message: dict) -> None:
    channel.basic_publish(topology.EXCHANGE, key, orjson.dumps(message),
                          pika.BasicProperties(delivery_mode=2, content_type="application/json"))


def reading(seq: int, epoch_s: int, power_w: float) -> dict:
    return {"schema": 1, "meter_id": "meter-1", "seq": seq, "timestamp": format_utc(epoch_s), "power_w": power_w}


def test_a_late_row_republishes_its_interval_with_the_new_means(amqp_url: str, tmp_path: Path) -> None:
    results = ResultsQueue(amqp_url)
    pv = start_service("pv_simulator", amqp_url, "--exit-when-done", "--output-dir", str(tmp_path / "out"),
                       log_path=tmp_path / "pv.log")
    deadline = time.monotonic() + 30
    while "consuming from" not in (tmp_path / "pv.log").read_text():  # the topology is declared
        assert time.monotonic() < deadline and pv.poll() is None, (tmp_path / "pv.log").read_text()
        time.sleep(0.05)
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.confirm_delivery()
    late = START + 30
    seconds = [s for s in range(START, START + 180) if s != late]
    for seq, second in enumerate(seconds):
        publish(channel, topology.reading_routing_key("meter-1"), reading(seq, second, 1000.0 + second % 60))
    first = results.drain(wait_s=20, at_least=2)  # the first two intervals closed
    assert [parse_interval_result(b).readings for _, b in first] == [59, 60]
    publish(channel, topology.reading_routing_key("meter-1"), reading(179, late, 9000.0))
    publish(channel, topology.end_routing_key("meter-1"), {
        "schema": 1, "meter_id": "meter-1", "run_id": "late-run", "meters": ["meter-1"], "readings": 180,
        "interval_s": 1, "first_timestamp": format_utc(START), "last_timestamp": format_utc(START + 179)})
    connection.close()
    assert pv.wait(timeout=60) == 0, (tmp_path / "pv.log").read_text()
    messages = first + results.drain(wait_s=5)
    intervals = [parse_interval_result(b) for k, b in messages if k.endswith(".interval")]
    assert [(int(r.interval_start.timestamp()) - START, r.readings) for r in intervals] == [
        (0, 59), (60, 60), (0, 60), (120, 60)]
    assert intervals[2].meter_power_kw == pytest.approx((sum(1000 + s for s in range(60)) - 1030 + 9000) / 60 / 1000)
    assert messages[-1][0] == topology.run_routing_key("meter-1")
    assert_results_equal_csv(messages, tmp_path / "out" / "meter-1" / f"{DAY.isoformat()}.csv", "meter-1", 60)
