"""``python -m meter``: publish a building's emulated consumption to RabbitMQ."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from common.amqp import BrokerUnavailable
from common.cli import exit_process, parse_settings
from common.clock import Pacer
from meter.service import MeterService
from meter.settings import MeterSettings

log = logging.getLogger("meter")

DESCRIPTION = (
    "Emulate building meters: one reading (0-9000 W) per emulated second of each local day, "
    "published to RabbitMQ with publisher confirms. Exits 0 once every reading is confirmed."
)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (2: bad settings, 1: broker unavailable)."""
    settings = parse_settings(MeterSettings, argv, "meter", DESCRIPTION)
    settings.configure_logging()
    plan = settings.plan()
    log.info(
        "meter run: %s from %s (%s), %d day(s), %d meter(s), every %d s, speed %s, model %s, seed %d",
        ", ".join(plan.meter_ids[:3]) + (" ..." if len(plan.meter_ids) > 3 else ""),
        plan.first_day, settings.timezone, plan.days, len(plan.meter_ids), plan.interval_s,
        "max" if settings.speed == float("inf") else f"{settings.speed:g}x", plan.model, plan.seed,
    )
    service = MeterService(plan, settings.amqp_url, settings.broker_timeout_s, Pacer(settings.speed))
    try:
        return service.run()
    except BrokerUnavailable as error:
        log.error("%s", error)
        return 1


if __name__ == "__main__":
    exit_process(main())
