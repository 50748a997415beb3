"""``python -m batch``: the meter and PV models without a broker, writing the same day CSVs."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Sequence

from pydantic import Field

from batch.run import run_batch
from common.cli import parse_settings
from meter.settings import RunSettings
from pv_simulator.settings import OutputSettings, PvModelSettings
from pv_simulator.writer import OutputError

log = logging.getLogger("batch")

DESCRIPTION = (
    "Batch mode for sweeps: emulate meters and PV for many days in one process, without RabbitMQ, "
    "and write the same <output-dir>/<meter_id>/<YYYY-MM-DD>.csv files as the broker pipeline "
    "(byte-identical for the same settings). Existing day files are replaced."
)


class BatchSettings(RunSettings, OutputSettings, PvModelSettings):
    """Everything batch mode needs; see ``python -m batch --help``."""

    workers: int = Field(os.cpu_count() or 1, ge=1, le=256, description="worker processes")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (2: bad settings, 1: output failure)."""
    settings = parse_settings(BatchSettings, argv, "batch", DESCRIPTION)
    settings.configure_logging()
    plan = settings.plan()
    log.info("batch run: %d meter(s) x %d day(s) from %s (%s), every %d s, model %s, seed %d -> %s",
             len(plan.meter_ids), plan.days, plan.first_day, settings.timezone, plan.interval_s, plan.model,
             plan.seed, settings.output_dir)
    started = time.monotonic()
    try:
        rows = run_batch(plan, settings.output_dir, settings.pv_profile(), settings.workers)
    except OutputError as error:
        log.error("%s", error)
        return 1
    elapsed = time.monotonic() - started
    log.info("done: %d rows in %.1f s (%.0f rows/s)", rows, elapsed, rows / max(elapsed, 1e-9))
    return 0


if __name__ == "__main__":
    sys.exit(main())
