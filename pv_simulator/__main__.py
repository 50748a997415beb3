"""``python -m pv_simulator``: consume meter readings, add PV power, write daily CSVs."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from common.amqp import BrokerUnavailable
from common.cli import exit_process, parse_settings
from models.chain import ModelChain
from pv_simulator.battery_state import BatteryStates
from pv_simulator.runs import RunTracker
from pv_simulator.service import PvSimulatorService
from pv_simulator.settings import PvSimulatorSettings
from pv_simulator.writer import CsvStore
from store.durable import check_output_dir
from store.format import OutputError

log = logging.getLogger("pv_simulator")

DESCRIPTION = (
    "Consume meter readings from RabbitMQ, compute PV power for each reading's time (the reference PV curve "
    "or a clear-sky model: --pv-model), and append timestamp, meter, PV and net (meter - PV) power to "
    "<output-dir>/<meter_id>/<YYYY-MM-DD>.csv."
)


def build_service(settings: PvSimulatorSettings) -> PvSimulatorService:
    """The PV simulator described by ``settings``. Raises :class:`OutputError` for unreadable run records."""
    chain = ModelChain(settings.pv_profile())
    spec = settings.battery_spec(settings.pv_kwp())
    battery = None if spec is None else BatteryStates(spec, settings.interval_s, settings.initial_soc_kwh(), chain,
                                                      settings.tz)
    if battery is not None:
        battery.compile()
    store = CsvStore(settings.output_dir, settings.tz, chain, settings.results_interval_s, battery)
    runs = RunTracker(settings.output_dir / ".pvsim" / "runs", store)
    return PvSimulatorService(store, runs, settings.amqp_url, settings.broker_timeout_s, settings.exit_when_done,
                              idle_exit_s=settings.idle_exit_s, dc_capacity_kw=settings.yield_capacity_kw())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (2: bad settings or an output directory it cannot write in, 1: broker
    or output failure)."""
    settings = parse_settings(PvSimulatorSettings, argv, "pv_simulator", DESCRIPTION)
    try:  # before consuming: a standby that cannot write must not take the queue from one that can
        check_output_dir(settings.output_dir)
    except OutputError as error:
        print(f"pv_simulator: error: --output-dir / PVSIM_OUTPUT_DIR: {error}", file=sys.stderr)
        return 2
    settings.configure_logging()
    try:
        return build_service(settings).run()
    except (BrokerUnavailable, OutputError) as error:
        log.error("%s", error)
        return 1


if __name__ == "__main__":
    exit_process(main())
