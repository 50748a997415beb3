"""Confirm and ack bookkeeping of the services, without a broker."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from common.clock import Pacer
from meter.service import MeterService
from models.pv.reference import ReferencePv
from pv_simulator.runs import RunTracker
from pv_simulator.service import PvSimulatorService
from pv_simulator.writer import CsvStore
from tests.expect import plan_for


class FakeChannel:
    is_open = True

    def __init__(self) -> None:
        self.acks: list[tuple[int, bool]] = []

    def basic_ack(self, tag: int, multiple: bool = False) -> None:
        self.acks.append((tag, multiple))


def test_meter_watermark_advances_only_over_contiguous_confirms() -> None:
    service = MeterService(plan_for(date(2026, 6, 21), interval_s=60), "amqp://x", 1.0, Pacer())
    service._advance(1, multiple=False)
    service._advance(3, multiple=False)  # out of order: 2 is still unconfirmed
    assert service._confirmed_tag == 1
    service._advance(2, multiple=False)
    assert service._confirmed_tag == 3
    service._advance(5, multiple=False)
    service._advance(4, multiple=True)
    assert service._confirmed_tag == 5 and not service._acked_ahead


@pytest.fixture
def pv_service(tmp_path: Path) -> PvSimulatorService:
    store = CsvStore(tmp_path, ZoneInfo("Europe/Berlin"), ReferencePv())
    service = PvSimulatorService(store, RunTracker(tmp_path / "runs", store), "amqp://x", 1.0, exit_when_done=False)
    service.channel = FakeChannel()  # type: ignore[assignment]
    return service


def test_pv_never_acks_a_tag_it_rejected_back_to_the_queue(pv_service: PvSimulatorService) -> None:
    channel = pv_service.channel
    pv_service._last_tag = pv_service._flushed_tag = 7
    pv_service._settled = {6, 7}  # the last two deliveries were rejected (requeued)
    pv_service._ack()
    assert channel.acks == [(5, True)]  # type: ignore[union-attr]
    assert pv_service._nothing_in_flight()


def test_pv_holds_the_ack_of_a_dead_letter_until_its_copy_is_confirmed(pv_service: PvSimulatorService) -> None:
    channel = pv_service.channel
    pv_service._last_tag = pv_service._flushed_tag = 10
    pv_service._blocked.add(1, 4)  # delivery 4 was dead-lettered; its copy is not confirmed yet
    pv_service._ack()
    assert channel.acks == [(3, True)]  # type: ignore[union-attr]
    assert not pv_service._nothing_in_flight()
    pv_service._blocked.clear()
    pv_service._ack()
    assert channel.acks[-1] == (10, True)  # type: ignore[union-attr]


def test_meter_stopped_before_its_run_is_confirmed_exits_143(monkeypatch: pytest.MonkeyPatch) -> None:
    service = MeterService(plan_for(date(2026, 6, 21), interval_s=60), "amqp://x", 1.0, Pacer())
    service.on_stop_requested()  # SIGTERM mid-run
    assert service.finished and service.exit_code == 143
    waiting = MeterService(plan_for(date(2026, 6, 21), interval_s=60), "amqp://x", 1.0, Pacer())
    waiting.stop_requested = True  # SIGTERM while still connecting
    monkeypatch.setattr(waiting, "_install_signal_handlers", lambda: None)  # keep pytest's own handlers
    assert waiting.run() == 143
