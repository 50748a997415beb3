"""``python -m batch``: the meter and PV models without a broker, writing the same day CSVs."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Sequence

from batch.cluster import ClusterError
from batch.run import run_batch
from batch.settings import BatchSettings
from common.cli import parse_settings, require_modules
from grid import REQUIRED_MODULES
from store.format import OutputError

log = logging.getLogger("batch")

DESCRIPTION = (
    "Batch mode for sweeps: emulate meters and PV for many days without RabbitMQ, in local worker processes "
    "or on a Dask cluster (--scheduler-address), and write the same <output-dir>/<meter_id>/<YYYY-MM-DD>.csv "
    "files as the broker pipeline (byte-identical for the same settings). Existing day files are replaced, "
    "each whole. On a cluster the output directory must be on a filesystem shared by every worker, "
    "at the same path. `python -m batch sweep --help`: sizing sweeps of PV and battery."
)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (2: bad settings, 1: output or cluster failure).

    ``python -m batch sweep ...`` runs a sizing sweep instead (:mod:`batch.sweep`).
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["sweep"]:
        from batch.sweep import main as sweep_main

        return sweep_main(arguments[1:])
    settings = parse_settings(BatchSettings, arguments, "batch", DESCRIPTION)
    if settings.feeder is not None:  # checked now, not after the days are computed
        require_modules("batch", REQUIRED_MODULES, "requirements-grid.txt")
    settings.configure_logging()
    if settings.feeder is not None and (problem := _meters_over_loads(settings.meters, settings.feeder)):
        print(f"batch: error: {problem}", file=sys.stderr)
        return 2
    plan = settings.plan()
    where = (f"Dask scheduler {settings.scheduler_address}" if settings.scheduler_address
             else f"{settings.workers} local worker(s)")
    log.info("batch run: %d meter(s) x %d day(s) from %s (%s), every %d s, model %s, seed %d -> %s on %s",
             len(plan.meter_ids), plan.days, plan.first_day, settings.timezone, plan.interval_s, plan.model,
             plan.seed, settings.output_dir, where)
    started = time.monotonic()
    try:
        rows = run_batch(plan, settings.output_dir, settings.pv_profile(), settings.workers,
                         settings.scheduler_address, settings.battery_spec(settings.pv_kwp()),
                         settings.initial_soc_kwh(), settings.yield_capacity_kw())
    except (OutputError, ClusterError) as error:
        log.error("%s", error)
        return 1
    elapsed = time.monotonic() - started
    log.info("done: %d rows in %.1f s (%.0f rows/s)", rows, elapsed, rows / max(elapsed, 1e-9))
    if settings.feeder is not None:  # the grid step: the same files as python -m grid, for every day
        from grid.run import solve_days  # pandapower is imported only when asked for

        return solve_days(settings.output_dir, plan.first_day, plan.days, settings.feeder, settings.tz,
                          settings.resolution_s, settings.power_factor, list(plan.meter_ids))
    return 0


def _meters_over_loads(meters: int, feeder: str) -> str | None:
    """Why ``meters`` buildings do not fit on ``feeder`` (one per load), or None when they do."""
    from grid.feeders import cached_feeder  # pandapower is imported only when asked for

    loads = len(cached_feeder(feeder).load)
    if meters <= loads:
        return None
    return (f"--meters / PVSIM_METERS: {meters} meters but feeder '{feeder}' has only {loads} "
            f"load{'s' if loads != 1 else ''} (one building per load); use --meters {loads} or fewer, "
            "or a larger --feeder")


if __name__ == "__main__":
    sys.exit(main())
