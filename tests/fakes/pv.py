"""A PV simulator service on a fake channel, and the broker and clock events that drive it."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pv_simulator.flush as flush
import pv_simulator.service as service_module
from models.battery_parameters import BatteryParameters
from models.chain import ModelChain
from models.pv.reference import ReferencePv, reference_day_dw
from pv_simulator.battery_state import BatteryStates
from pv_simulator.runs import RunTracker
from pv_simulator.service import PvSimulatorService
from pv_simulator.writer import CsvStore
from tests.fakes import FakeChannel, FakeClock, FakeConnection, open_channel


def pv_service(output_dir: Path, timezone: str = "UTC", exit_when_done: bool = False,
               battery: BatteryParameters | None = None, interval_s: int = 1, results_interval_s: int = 60,
               dc_capacity_kw: float | None = None) -> tuple[PvSimulatorService, FakeChannel]:
    """A PV simulator writing to ``output_dir`` (reference PV; ``dc_capacity_kw`` [kWp] for the summaries' yield),
    consuming from a fresh fake channel; with ``battery`` (its settings) a home battery behind every meter,
    dispatched over readings ``interval_s`` apart; live results over ``results_interval_s``.

    With :func:`tests.fakes.fake_time` on :mod:`pv_simulator.service`, its I/O loop runs on that clock.
    """
    chain = ModelChain(ReferencePv())
    spec = None if battery is None else battery.battery_spec(max(reference_day_dw()) / 10_000)
    states = None if battery is None or spec is None else BatteryStates(
        spec, interval_s, battery.initial_soc_kwh(), chain, ZoneInfo(timezone))
    store = CsvStore(output_dir, ZoneInfo(timezone), chain, results_interval_s, battery=states)
    service = PvSimulatorService(store, RunTracker(output_dir / ".pvsim" / "runs", store), "amqp://x", 1.0,
                                 exit_when_done=exit_when_done, dc_capacity_kw=dc_capacity_kw)
    clock = service_module.time
    return service, open_channel(service, FakeConnection(clock if isinstance(clock, FakeClock) else None))


def tick(service: PvSimulatorService, count: int = 1) -> None:
    """Let the time between two periodic ticks pass ``count`` times: each tick flushes what waits
    (writes, publishes, acks) and counts and closes finished runs."""
    assert isinstance(service.connection, FakeConnection)
    for _ in range(count):
        service.connection.ioloop.advance(flush.FLUSH_INTERVAL_S * 1.5)


def reconnect(service: PvSimulatorService) -> FakeChannel:
    """The connection was lost; a new one opens a fresh channel (on the same clock)."""
    service.on_connection_lost()
    assert isinstance(service.connection, FakeConnection)
    return open_channel(service, FakeConnection(service.connection.ioloop.clock))
