"""Oversized bodies cannot fill the broker: the dead-letter queue keeps a truncated copy and is capped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pika
import pytest

from common import topology
from common.schema import MAX_BODY_BYTES
from tests.conftest import ROOT, queue_depth, service_env, start_service
from tests.expect import read_day
from tests.integration.test_bad_input import READINGS, end_of_run, publish, reading

pytestmark = [pytest.mark.integration]

BIG_BYTES = 5 * 1024 * 1024
"""A multi-megabyte body [bytes]: far over the contract's 64 KiB, under any broker's max_message_size."""


def held(amqp_url: str) -> list[tuple[bytes, dict]]:
    """(body, headers) of every message in ``pvsim.dead_letter``, left in the queue (RabbitMQ 3.10 reports no
    ``message_bytes`` for quorum queues, so their sum is the queue's size in body bytes)."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    found = []
    while (got := channel.basic_get(topology.DEAD_LETTER_QUEUE, auto_ack=False))[0] is not None:
        found.append((got[2], got[1].headers or {}))
    connection.close()  # unacked: all back in the queue
    return found


def test_an_oversized_body_is_dead_lettered_as_a_truncated_copy_with_its_size_and_reason(
    amqp_url: str, tmp_path: Path
) -> None:
    key = topology.reading_routing_key("meter-1")
    big = [reading(0)[:-1] + b', "padding": "' + bytes([65 + n]) * BIG_BYTES + b'"}' for n in range(3)]
    publish(amqp_url, [(key, body) for body in big] + [(key, reading(s)) for s in range(READINGS)]
            + [(topology.end_routing_key("meter-1"), end_of_run())])
    log = tmp_path / "pv.log"
    pv = start_service("pv_simulator", amqp_url, "--exit-when-done", "--output-dir", str(tmp_path / "out"),
                       log_path=log)
    assert pv.wait(timeout=90) == 0, log.read_text()
    assert len(read_day(tmp_path / "out" / "meter-1" / "2026-06-21.csv")) == READINGS  # all valid ones kept

    letters = held(amqp_url)
    size = sum(len(body) for body, _ in letters)
    assert len(letters) == 3 and size <= 3 * topology.DEAD_LETTER_COPY_BYTES, f"{size} bytes in dead letters"
    assert sorted(body for body, _ in letters) == sorted(body[:topology.DEAD_LETTER_COPY_BYTES] for body in big)
    for _, headers in letters:
        assert headers[topology.BODY_BYTES_HEADER] == len(big[0])
        assert headers[topology.TRUNCATED_HEADER] is True
        assert f"exceeds the {MAX_BODY_BYTES}-byte limit" in headers[topology.REASON_HEADER]
        assert headers[topology.ROUTING_KEY_HEADER] == key

    replay = subprocess.run([sys.executable, "-m", "pv_simulator.dead_letters", "--replay"], cwd=ROOT,
                            env=service_env(amqp_url), capture_output=True, text=True, timeout=60, check=True)
    assert f"(first {topology.DEAD_LETTER_COPY_BYTES} of {len(big[0])} bytes)" in replay.stdout
    assert "3 truncated copies of oversized bodies kept" in replay.stderr  # not replayable: kept to be read
    assert queue_depth(amqp_url, topology.DEAD_LETTER_QUEUE) == 3 and queue_depth(amqp_url) == 0


def test_the_dead_letter_queue_is_capped_and_drops_its_oldest_letters(amqp_url: str) -> None:
    publish(amqp_url, [])  # declares the topology
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.confirm_delivery()  # a refused publish would raise here: the cap must drop, not nack
    body_bytes = 1024 * 1024
    letters = topology.DEAD_LETTER_MAX_BYTES // body_bytes + 8
    for n in range(letters):
        channel.basic_publish(topology.DEAD_LETTER_EXCHANGE, "", n.to_bytes(4, "big") * (body_bytes // 4))
    connection.close()
    kept = topology.DEAD_LETTER_MAX_BYTES // body_bytes
    assert queue_depth(amqp_url, topology.DEAD_LETTER_QUEUE) == kept
    bodies = [body for body, _ in held(amqp_url)]
    assert sum(map(len, bodies)) <= topology.DEAD_LETTER_MAX_BYTES
    assert [body[:4] for body in bodies] == [n.to_bytes(4, "big") for n in range(letters - kept, letters)]
