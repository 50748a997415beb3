"""Bad input on the wire is dead-lettered with its reason; everything valid around it is written."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pika
import pytest

from common import topology
from common.schema import EndOfRun, encode
from pv_simulator.__main__ import build_service
from pv_simulator.settings import PvSimulatorSettings
from tests.conftest import start_service
from tests.expect import read_day

pytestmark = [pytest.mark.integration]

START = datetime(2026, 6, 21, 10, 0, tzinfo=UTC)
READINGS = 100


def reading(seq: int, meter_id: str = "meter-1", when: datetime | None = None, power_w: float | None = None) -> bytes:
    moment = when or START + timedelta(seconds=seq)
    return json.dumps({"schema": 1, "meter_id": meter_id, "seq": seq,
                       "timestamp": moment.isoformat().replace("+00:00", "Z"),
                       "power_w": 1000.0 + seq if power_w is None else power_w}).encode()


def end_of_run(meter_id: str = "meter-1", readings: int = READINGS) -> bytes:
    return encode(EndOfRun(schema=1, meter_id=meter_id, run_id="test-run", meters=[meter_id], readings=readings,
                           interval_s=1, first_timestamp=START,
                           last_timestamp=START + timedelta(seconds=readings - 1)))


VALID = {"schema": 1, "meter_id": "meter-1", "seq": 0, "timestamp": "2026-06-21T10:00:00Z", "power_w": 1.0}
BAD_BODIES = {
    "not JSON": b"this is not json",
    "JSON array": b"[1, 2, 3]",
    "JSON string": b'"reading"',
    "missing power_w": json.dumps({k: v for k, v in VALID.items() if k != "power_w"}).encode(),
    "seq as text": json.dumps({**VALID, "seq": "7"}).encode(),
    "power_w as text": json.dumps({**VALID, "power_w": "1.0"}).encode(),
    "power_w NaN": json.dumps({**VALID, "power_w": float("nan")}).encode(),
    "power_w Infinity": json.dumps({**VALID, "power_w": float("inf")}).encode(),
    "power_w negative": json.dumps({**VALID, "power_w": -5.0}).encode(),
    "power_w above 9000": json.dumps({**VALID, "power_w": 9000.5}).encode(),
    "timestamp unparsable": json.dumps({**VALID, "timestamp": "yesterday noon"}).encode(),
    "timestamp without timezone": json.dumps({**VALID, "timestamp": "2026-06-21T10:00:00"}).encode(),
    "unknown schema": json.dumps({**VALID, "schema": 2}).encode(),
    "empty body": b"",
    "body over 64 KiB": json.dumps({**VALID, "padding": "x" * 70_000}).encode(),
    "meter id with a slash": json.dumps({**VALID, "meter_id": "../etc"}).encode(),
}


def publish(amqp_url: str, messages: list[tuple[str, bytes]]) -> None:
    """Publish (routing key, body) pairs to ``pvsim`` with confirms, declaring the topology first."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.exchange_declare(topology.EXCHANGE, "topic", durable=True)
    channel.exchange_declare(topology.DEAD_LETTER_EXCHANGE, "fanout", durable=True)
    for spec in (topology.PV_QUEUE, topology.DEAD_LETTER):
        channel.queue_declare(spec.name, durable=True, arguments=spec.arguments)
        for key in spec.bindings:
            channel.queue_bind(spec.name, spec.exchange, routing_key=key)
    publish_on(channel, messages)
    connection.close()


def publish_on(channel: pika.adapters.blocking_connection.BlockingChannel, messages: list[tuple[str, bytes]]) -> None:
    """Publish (routing key, body) pairs to ``pvsim`` on ``channel`` with confirms, persistent, as JSON."""
    channel.confirm_delivery()
    properties = pika.BasicProperties(content_type="application/json", delivery_mode=2)
    for key, body in messages:
        channel.basic_publish(topology.EXCHANGE, key, body, properties)


def dead_letters(amqp_url: str) -> list[tuple[bytes, dict]]:
    """Drain ``pvsim.dead_letter``: (body, headers) of each message."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    found = []
    while True:
        method, properties, body = channel.basic_get(topology.DEAD_LETTER_QUEUE, auto_ack=True)
        if method is None:
            break
        found.append((body, properties.headers or {}))
    connection.close()
    return found


def test_bad_messages_are_dead_lettered_with_a_reason_and_valid_readings_all_written(
    amqp_url: str, tmp_path: Path
) -> None:
    key = topology.reading_routing_key("meter-1")
    messages: list[tuple[str, bytes]] = []
    bad = iter(BAD_BODIES.values())
    for seq in range(READINGS):
        messages.append((key, reading(seq)))
        if seq % 6 == 0:
            messages.append((key, next(bad, reading(seq))))  # after the bad bodies run out: duplicates
    messages.append((key, reading(5)))  # the same reading twice
    late = START - timedelta(days=1)  # 2026-06-20 local, after later seconds
    messages.append((key, reading(999, when=late, power_w=4321.0)))
    messages.append((topology.end_routing_key("meter-1"), end_of_run()))
    publish(amqp_url, messages)

    log = tmp_path / "pv.log"
    pv = start_service("pv_simulator", amqp_url, "--exit-when-done", "--output-dir", str(tmp_path / "out"),
                       log_path=log)
    assert pv.wait(timeout=60) == 0, log.read_text()

    frame = read_day(tmp_path / "out" / "meter-1" / "2026-06-21.csv")
    assert len(frame) == READINGS
    assert frame["timestamp"].is_unique
    assert list(frame["meter_power_kw"]) == [round((1000.0 + s) / 1000, 4) for s in range(READINGS)]
    late_rows = read_day(tmp_path / "out" / "meter-1" / "2026-06-20.csv")
    assert list(late_rows["timestamp"]) == ["2026-06-20T12:00:00+02:00"]
    assert list(late_rows["meter_power_kw"]) == [4.321]

    letters = dead_letters(amqp_url)
    assert len(letters) == len(BAD_BODIES)
    bodies = [body for body, _ in letters]
    for name, body in BAD_BODIES.items():
        body, _ = topology.dead_letter_copy(body)  # the 70 kB body: its first 4 KiB (see test_oversized.py)
        assert body in bodies, f"{name} not dead-lettered"
    for _, headers in letters:
        assert headers.get(topology.REASON_HEADER), headers
    reasons = {body: headers[topology.REASON_HEADER] for body, headers in letters}
    assert "not JSON" in reasons[BAD_BODIES["not JSON"]] or "Invalid JSON" in reasons[BAD_BODIES["not JSON"]]
    assert "power_w" in reasons[BAD_BODIES["power_w above 9000"]]
    assert "empty" in reasons[BAD_BODIES["empty body"]]
    text = log.read_text()
    assert f"{len(BAD_BODIES)} messages dead-lettered" in text
    assert "2 duplicates dropped" in text  # reading 5 twice, and reading 96 after the bad bodies ran out


def test_a_message_whose_handling_keeps_failing_is_dead_lettered_after_the_delivery_limit(
    amqp_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    from tests.conftest import queue_depth

    publish(amqp_url, [(topology.reading_routing_key("boom"), reading(0, meter_id="boom"))])
    service = build_service(PvSimulatorSettings(amqp_url=amqp_url, output_dir=tmp_path / "out",
                                                exit_when_done=True))
    real_add = service.store.add
    attempts = []

    def failing_add(meter_id: str, ms: int, power_w: float):
        if meter_id == "boom":
            attempts.append(ms)
            raise RuntimeError("simulated bug")
        return real_add(meter_id, ms, power_w)

    def run_after_the_poison_message_is_dead_lettered() -> None:
        deadline = time.monotonic() + 30
        while queue_depth(amqp_url, topology.DEAD_LETTER_QUEUE) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        # valid readings keep flowing afterwards; their run's end lets the service exit
        publish(amqp_url, [(topology.reading_routing_key("meter-1"), reading(s)) for s in range(READINGS)]
                + [(topology.end_routing_key("meter-1"), end_of_run())])

    monkeypatch.setattr(service.store, "add", failing_add)
    feeder = threading.Thread(target=run_after_the_poison_message_is_dead_lettered)
    feeder.start()
    assert service.run() == 0
    feeder.join()
    assert len(read_day(tmp_path / "out" / "meter-1" / "2026-06-21.csv")) == READINGS
    # Redelivered until the quorum queue's delivery limit, then dead-lettered by the broker.
    assert len(attempts) in (topology.DELIVERY_LIMIT, topology.DELIVERY_LIMIT + 1)
    letters = dead_letters(amqp_url)
    assert [body for body, _ in letters] == [reading(0, meter_id="boom")]
    assert letters[0][1]["x-first-death-reason"] == "delivery_limit"


def test_dead_letters_can_be_listed_and_replayed(amqp_url: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT, queue_depth, service_env

    bad = json.dumps({**VALID, "power_w": -1.0}).encode()
    publish(amqp_url, [(topology.reading_routing_key("meter-1"), bad)]
            + [(topology.reading_routing_key("meter-1"), reading(s)) for s in range(3)]
            + [(topology.end_routing_key("meter-1"), end_of_run(readings=3))])
    pv = start_service("pv_simulator", amqp_url, "--exit-when-done", "--output-dir", str(tmp_path / "out"))
    assert pv.wait(timeout=60) == 0

    def tool(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pv_simulator.dead_letters", *args], cwd=ROOT,
                              env=service_env(amqp_url), capture_output=True, text=True, timeout=60, check=False)

    listed = tool()
    assert listed.returncode == 0
    assert "meter.meter-1.reading" in listed.stdout and "power_w" in listed.stdout
    assert queue_depth(amqp_url, topology.DEAD_LETTER_QUEUE) == 1  # listing keeps it
    replayed = tool("--replay")
    assert replayed.returncode == 0 and "1 dead letter(s) replayed" in replayed.stderr
    assert queue_depth(amqp_url, topology.DEAD_LETTER_QUEUE) == 0
    assert queue_depth(amqp_url) == 1  # back in the PV simulator's queue


def test_readings_that_arrive_out_of_order_end_up_in_timestamp_order_once_the_run_is_complete(
    amqp_url: str, tmp_path: Path
) -> None:
    key = topology.reading_routing_key("meter-1")
    order = list(range(READINGS))
    order[10:20] = reversed(order[10:20])  # ten readings arrive in reverse
    publish(amqp_url, [(key, reading(s)) for s in order] + [(topology.end_routing_key("meter-1"), end_of_run())])
    log = tmp_path / "pv.log"
    pv = start_service("pv_simulator", amqp_url, "--exit-when-done", "--output-dir", str(tmp_path / "out"),
                       log_path=log)
    assert pv.wait(timeout=60) == 0, log.read_text()
    frame = read_day(tmp_path / "out" / "meter-1" / "2026-06-21.csv")
    assert len(frame) == READINGS and frame["utc"].is_monotonic_increasing
    assert list(frame["meter_power_kw"]) == [round((1000.0 + s) / 1000, 4) for s in range(READINGS)]
    assert "rows put back in timestamp order" in log.read_text()


def test_a_body_under_another_meters_routing_key_is_dead_lettered_and_no_key_can_forge_a_line(
    amqp_url: str, tmp_path: Path
) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT, service_env

    forged = "FORGED 2026-01-01 ERROR the PV simulator stopped"
    strays = {
        topology.reading_routing_key("meter-1"): reading(0, meter_id="meter-2"),  # today written as meter-2
        f"meter.meter-1\n{forged}.reading": reading(1),
        "meter.\x1b[2J\x1b[31mmeter-1.end": end_of_run(),
    }
    key = topology.reading_routing_key("meter-1")
    publish(amqp_url, [(key, reading(s)) for s in range(READINGS)] + list(strays.items())
            + [(topology.end_routing_key("meter-1"), end_of_run())])
    log = tmp_path / "pv.log"
    pv = start_service("pv_simulator", amqp_url, "--exit-when-done", "--output-dir", str(tmp_path / "out"),
                       log_path=log)
    assert pv.wait(timeout=60) == 0, log.read_text()
    assert not (tmp_path / "out" / "meter-2").exists()
    assert len(read_day(tmp_path / "out" / "meter-1" / "2026-06-21.csv")) == READINGS
    text = log.read_text()
    assert "\x1b" not in text and not any(line.startswith("FORGED") for line in text.splitlines()), text
    assert f"{len(strays)} messages dead-lettered" in text

    listed = subprocess.run([sys.executable, "-m", "pv_simulator.dead_letters"], cwd=ROOT,
                            env=service_env(amqp_url), capture_output=True, text=True, timeout=60, check=True)
    assert "\x1b" not in listed.stdout and not any(line.startswith("FORGED") for line in listed.stdout.splitlines())
    assert len(listed.stdout.splitlines()) == len(strays), listed.stdout
    letters = dead_letters(amqp_url)
    reasons = {headers[topology.ROUTING_KEY_HEADER]: headers[topology.REASON_HEADER] for _, headers in letters}
    assert set(reasons) == set(strays)
    for key, why in reasons.items():
        assert "is not the meter word of the routing key" in why and repr(key) in why
