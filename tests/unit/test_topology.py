"""The dead-letter copy and the routing-key check of the wire topology."""

from __future__ import annotations

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
