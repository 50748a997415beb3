"""The dead-letter copy, the routing-key checks, the queue arguments of the wire topology, and that only
common/topology.py spells AMQP header names, queue arguments and bindings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from common import topology
from common.schema import MAX_BODY_BYTES, InvalidMessage


def test_a_body_within_the_contract_is_dead_lettered_whole_with_its_size() -> None:
    body = b"x" * MAX_BODY_BYTES
    assert topology.dead_letter_copy(body) == (body, {topology.BODY_BYTES_HEADER: MAX_BODY_BYTES})


def test_a_body_over_the_contract_keeps_its_first_bytes_its_size_and_a_truncation_mark() -> None:
    body = bytes(range(256)) * (MAX_BODY_BYTES // 256 + 1)
    kept, headers = topology.dead_letter_copy(body)
    assert kept == body[:topology.DEAD_LETTER_COPY_BYTES]
    assert headers == {topology.BODY_BYTES_HEADER: len(body), topology.TRUNCATED_HEADER: True}


@pytest.mark.parametrize("key", ["meter.meter-1.reading", "meter.meter-1.end", "result.meter-1.interval"])
def test_a_body_routed_under_its_own_meter_id_passes(key: str) -> None:
    topology.check_meter_word(key, "meter-1")


@pytest.mark.parametrize("key", ["meter.meter-2.reading", "meter.meter-1.x.reading", "meter-1", "",
                                 "meter.meter-1\nFORGED.reading", "result.\x1b[31mmeter-1.run"])
def test_a_body_routed_under_another_meter_word_is_invalid_and_the_reason_shows_the_key_escaped(key: str) -> None:
    with pytest.raises(InvalidMessage) as raised:
        topology.check_meter_word(key, "meter-1")
    assert repr(key) in raised.value.reason
    assert "\n" not in raised.value.reason and "\x1b" not in raised.value.reason


def test_the_web_service_dead_letters_a_result_routed_under_another_meter() -> None:
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from api.live.consumer import parse_batch
    from common.schema import encode
    from tests.api.helpers import interval

    body = encode(interval("meter-1", datetime(2026, 6, 21, tzinfo=UTC)))
    messages = [SimpleNamespace(routing_key=topology.interval_routing_key(meter), body=body)
                for meter in ("meter-1", "meter-2")]
    parsed = parse_batch(messages)  # type: ignore[arg-type]
    assert [result.meter_id for result in parsed.intervals] == ["meter-1"]
    assert [(message, "'result.meter-2.interval'" in why) for message, why in parsed.bad] == [(messages[1], True)]


ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("common", "models", "store", "meter", "pv_simulator", "grid", "api", "batch", "benchmarks", "pvsim")
AMQP_NAME = re.compile(r"""["'](x-[a-z-]+|(?:meter|result)\.[*a-z]+\.[a-z]+)["']""")


def test_header_names_queue_arguments_and_bindings_are_spelled_only_in_common_topology() -> None:
    found = []
    for package in SOURCES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "common" / "topology.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                found += [f"{path.relative_to(ROOT)}:{number}: {name}" for name in AMQP_NAME.findall(line)]
    assert found == []


def test_the_results_queue_is_dead_lettered_like_the_pv_queue_and_expires() -> None:
    queue = topology.results_queue("pvsim.api.test", 60)
    assert queue.arguments == {"x-queue-type": "quorum", "x-delivery-limit": topology.DELIVERY_LIMIT,
                               "x-dead-letter-exchange": topology.DEAD_LETTER_EXCHANGE, "x-expires": 60_000}
    assert (queue.exchange, queue.bindings) == (topology.RESULTS_EXCHANGE, ("result.*.interval", "result.*.run"))
    assert topology.PV_QUEUE.arguments == {"x-queue-type": "quorum", "x-delivery-limit": 20,
                                           "x-dead-letter-exchange": "pvsim.dead_letter",
                                           "x-single-active-consumer": True}


@pytest.mark.parametrize(("key", "kind"), [("meter.m-1.reading", "reading"), ("meter.m-1.end", "end"),
                                           ("result.m-1.interval", "interval"), ("result.m-1.run", "run")])
def test_each_routing_key_is_recognised_as_its_own_kind_only(key: str, kind: str) -> None:
    kinds = {"reading": topology.is_reading_key, "end": topology.is_end_key,
             "interval": topology.is_interval_key, "run": topology.is_run_key}
    assert [name for name, check in kinds.items() if check(key)] == [kind]
