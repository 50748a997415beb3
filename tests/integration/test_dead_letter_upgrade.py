"""A broker holding an earlier version's uncapped ``pvsim.dead_letter`` does not stop the services starting."""

from __future__ import annotations

from pathlib import Path

import pika
import pytest

from common import topology
from tests.conftest import queue_depth, start_service
from tests.expect import read_day
from tests.integration.test_bad_input import READINGS, dead_letters, end_of_run, publish_on, reading

pytestmark = [pytest.mark.integration]

OLD_ARGUMENTS = {"x-queue-type": "quorum"}
"""How pvsim declared the dead-letter queue before the cap."""


def old_broker(amqp_url: str, messages: list[tuple[str, bytes]]) -> None:
    """Set up the topology as an earlier version left it (dead-letter queue uncapped) and publish ``messages``."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.exchange_declare(topology.EXCHANGE, "topic", durable=True)
    channel.exchange_declare(topology.DEAD_LETTER_EXCHANGE, "fanout", durable=True)
    channel.queue_declare(topology.DEAD_LETTER_QUEUE, durable=True, arguments=OLD_ARGUMENTS)
    channel.queue_bind(topology.DEAD_LETTER_QUEUE, topology.DEAD_LETTER_EXCHANGE, routing_key="")
    channel.queue_declare(topology.QUEUE, durable=True, arguments=topology.PV_QUEUE.arguments)
    for key in topology.PV_QUEUE.bindings:
        channel.queue_bind(topology.QUEUE, topology.EXCHANGE, routing_key=key)
    publish_on(channel, messages)
    connection.close()


def still_uncapped(amqp_url: str) -> bool:
    """The old queue is still there, as it was (a capped redeclaration would be refused again)."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        connection.channel().queue_declare(topology.DEAD_LETTER_QUEUE, durable=True, arguments=OLD_ARGUMENTS)
        return True
    except pika.exceptions.ChannelClosedByBroker:
        return False
    finally:
        if connection.is_open:
            connection.close()


def test_the_pv_simulator_uses_an_uncapped_dead_letter_queue_and_warns_once_how_to_migrate(
    amqp_url: str, tmp_path: Path
) -> None:
    key = topology.reading_routing_key("meter-1")
    readings = [(key, reading(s)) for s in range(READINGS)]
    old_broker(amqp_url, [readings[0], (key, b"this is not json"), *readings[1:],
                          (topology.end_routing_key("meter-1"), end_of_run())])
    log_path = tmp_path / "pv.log"
    pv = start_service("pv_simulator", amqp_url, "--exit-when-done", "--output-dir", str(tmp_path / "out"),
                       log_path=log_path)
    assert pv.wait(timeout=90) == 0, log_path.read_text()
    log = log_path.read_text()

    assert len(read_day(tmp_path / "out" / "meter-1" / "2026-06-21.csv")) == READINGS
    letters = dead_letters(amqp_url)
    assert [body for body, _ in letters] == [b"this is not json"]
    reason = letters[0][1][topology.REASON_HEADER]
    assert "not JSON" in reason or "Invalid JSON" in reason, reason
    assert still_uncapped(amqp_url)
    assert log.count("predates the cap") == 1, log
    assert "inequivalent arg 'x-max-length-bytes'" in log and "UNCAPPED" in log
    assert topology.UNCAPPED_MIGRATION in log
    assert f"dead letters go to an UNCAPPED {topology.DEAD_LETTER_QUEUE}" in log
    assert "broker refused" not in log and log.count("connected to broker") == 1


def test_a_capped_dead_letter_queue_gives_no_warning(amqp_url: str, tmp_path: Path) -> None:
    log_path = tmp_path / "pv.log"
    pv = start_service("pv_simulator", amqp_url, "--exit-when-done", "--idle-exit-s", "1",
                       "--output-dir", str(tmp_path / "out"), log_path=log_path)
    pv.wait(timeout=60)
    log = log_path.read_text()
    assert "consuming from" in log and "predates the cap" not in log and "UNCAPPED" not in log, log


def test_the_meter_publishes_its_run_on_a_broker_with_an_uncapped_dead_letter_queue(
    amqp_url: str, tmp_path: Path
) -> None:
    old_broker(amqp_url, [])
    log_path = tmp_path / "meter.log"
    meter = start_service("meter", amqp_url, "--date", "2026-06-21", "--interval-s", "3600", log_path=log_path)
    assert meter.wait(timeout=120) == 0, log_path.read_text()
    log = log_path.read_text()
    assert log.count("predates the cap") == 1 and topology.UNCAPPED_MIGRATION in log, log
    assert queue_depth(amqp_url) == 24 + 1  # the day's hourly readings and the end of run
    assert still_uncapped(amqp_url)
