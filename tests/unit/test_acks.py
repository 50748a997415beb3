"""Confirm and ack bookkeeping of the services, without a broker."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import orjson
import pytest

from common import topology
from common.clock import Pacer
from common.schema import format_utc
from meter.service import MeterService
from pv_simulator.service import PvSimulatorService
from tests.expect import plan_for
from tests.fakes import FakeChannel, open_channel
from tests.fakes.pv import pv_service, tick

START = 1_782_000_000  # 2026-06-21T00:00:00Z


def test_meter_counts_readings_confirmed_only_up_to_the_first_unconfirmed_one() -> None:
    service = MeterService(plan_for(date(2026, 6, 21), interval_s=60), "amqp://x", 1.0, Pacer())
    channel = open_channel(service)
    service.connection.ioloop.turn()  # type: ignore[union-attr]  # the pump's first chunk
    assert channel.routing_keys()[:2] == ["meter.meter-1.reading"] * 2
    channel.confirm(1, multiple=False)
    channel.confirm(3, multiple=False)  # out of order: 2 is still unconfirmed
    assert service.confirmed == 1
    channel.confirm(2, multiple=False)
    assert service.confirmed == 3
    channel.confirm(5, multiple=False)
    channel.confirm(4, multiple=True)
    assert service.confirmed == 5 and service.watermark.ahead == 0


@pytest.fixture
def pv(tmp_path: Path) -> tuple[PvSimulatorService, FakeChannel]:
    return pv_service(tmp_path)


def reading(seq: int, power_w: float = 500.0) -> bytes:
    return orjson.dumps({"schema": 1, "meter_id": "meter-1", "seq": seq, "timestamp": format_utc(START + seq),
                         "power_w": power_w})


def test_pv_never_acks_a_tag_it_rejected_back_to_the_queue(pv: tuple[PvSimulatorService, FakeChannel],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    service, channel = pv
    real_add = service.store.add

    def add(meter_id: str, ms: int, power_w: float) -> object:
        if power_w == 666.0:
            raise RuntimeError("unexpected")  # a bug, not bad input: back to the queue
        return real_add(meter_id, ms, power_w)

    monkeypatch.setattr(service.store, "add", add)
    for seq in range(5):
        channel.deliver("meter.meter-1.reading", reading(seq))
    channel.deliver("meter.meter-1.reading", reading(5, 666.0))
    channel.deliver("meter.meter-1.reading", reading(6, 666.0))
    service.on_stop_requested()  # the last write: everything on disk is acked
    assert channel.rejects == [(6, True), (7, True)]
    assert channel.acks == [(5, True)]
    assert service.ledger.nothing_in_flight()


def test_pv_holds_the_ack_of_a_dead_letter_until_its_copy_is_confirmed(
        pv: tuple[PvSimulatorService, FakeChannel]) -> None:
    service, channel = pv
    for seq in range(10):
        channel.deliver("meter.meter-1.reading", b"{" if seq == 3 else reading(seq))
    assert channel.routing_keys() == ["meter.meter-1.reading"]  # delivery 4's dead-letter copy
    assert channel.published[0].exchange == topology.DEAD_LETTER_EXCHANGE
    tick(service)  # the periodic tick: a flush
    assert channel.acks == [(3, True)]
    assert not service.ledger.nothing_in_flight()
    channel.confirm(1)
    assert channel.acks[-1] == (10, True)
    assert service.ledger.nothing_in_flight()


def test_meter_stopped_before_its_run_is_confirmed_exits_143(monkeypatch: pytest.MonkeyPatch) -> None:
    service = MeterService(plan_for(date(2026, 6, 21), interval_s=60), "amqp://x", 1.0, Pacer())
    service.on_stop_requested()  # SIGTERM mid-run
    assert service.finished and service.exit_code == 143
    waiting = MeterService(plan_for(date(2026, 6, 21), interval_s=60), "amqp://x", 1.0, Pacer())
    waiting.stop_requested = True  # SIGTERM while still connecting
    monkeypatch.setattr(waiting, "_install_signal_handlers", lambda: None)  # keep pytest's own handlers
    assert waiting.run() == 143
