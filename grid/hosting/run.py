"""``python -m grid hosting-capacity``: draw the deployments, solve them, write the files and the figure."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from common.cli import parse_settings, require_modules
from grid import REQUIRED_MODULES
from grid.hosting.settings import HostingSettings

if TYPE_CHECKING:
    from grid.hosting.scenarios import Scenarios
    from grid.hosting.solve import HostingFeeder, Violations

log = logging.getLogger(__name__)

SETTINGS_FIELDS = ("feeder", "scenarios", "seed", "vm_max_pu", "voltage_rise_percent", "loading_max_percent",
                   "pv_share", "load_share", "power_factor", "pv_median_kwp", "pv_sigma", "pv_min_kwp", "pv_max_kwp")
"""The settings ``summary.json`` records."""

DESCRIPTION = (
    "Stochastic PV hosting capacity of a feeder: --scenarios random deployments (a random order of the feeder's "
    "buildings, i.e. its loads, and a log-normal rooftop PV size per building), PV added building by building "
    "at a sunny low-load noon (PV at --pv-share of kWp, loads at --load-share of their rating) until the first "
    "bus above --vm-max-pu, voltage rise above --voltage-rise-percent, or line/transformer above "
    "--loading-max-percent. A scenario's capacity is the PV installed before its first violation (the whole "
    "feeder if none). Solved with power-grid-model batches; writes summary.json, scenarios.csv, replay.csv and "
    "hosting-capacity.png to <output-dir>/grid/<feeder>/hosting-capacity/. Exit 2 on bad settings (unknown "
    "feeder, 0 scenarios, a limit the feeder violates without PV), 1 if the files cannot be written."
)


@dataclass(frozen=True)
class Study:
    """A solved hosting-capacity study: ``summary`` (as ``summary.json``), the median scenario's bus voltages
    ``median_vm_pu`` (bus name -> [pu], at its capacity), the figure as PNG bytes, the feeder, the
    scenarios, their violations and ``capacity_kwp`` (S,) [kWp]."""

    summary: dict[str, Any]
    median_vm_pu: dict[str, float]
    figure_png: bytes
    hosting: HostingFeeder
    scenarios: Scenarios
    found: Violations
    capacity_kwp: np.ndarray


def study(settings: HostingSettings, progress: Callable[[int, int], None] | None = None) -> Study:
    """Draw, solve and summarise the study ``settings`` describe (no files written).

    ``progress(step, buildings)``: see :func:`grid.hosting.solve.find_violations`.

    Raises
    ------
    grid.hosting.solve.HostingInputError, grid.snapshot.PowerFlowDiverged, ValueError
        Bad settings for this feeder, or a power flow that does not converge.
    """
    from grid.hosting.plot import hosting_figure
    from grid.hosting.report import median_scenario, summarize
    from grid.hosting.scenarios import KINDS, PvSizes, capacity_kwp, draw_scenarios
    from grid.hosting.solve import Limits, OperatingPoint, check_base, find_violations, prepare, state_vm_pu

    limits = Limits(settings.vm_max_pu, settings.voltage_rise_percent, settings.loading_max_percent)
    hosting = prepare(settings.feeder, OperatingPoint(settings.pv_share, settings.load_share, settings.power_factor))
    check_base(hosting, limits)
    sizes = PvSizes(settings.pv_median_kwp, settings.pv_sigma, settings.pv_min_kwp, settings.pv_max_kwp)
    scenarios = draw_scenarios(settings.scenarios, hosting.buildings, settings.seed, sizes)
    solve_started = time.monotonic()
    found = find_violations(hosting, scenarios, limits, settings.chunk_rows, progress)
    solve_s = time.monotonic() - solve_started
    capacity = capacity_kwp(scenarios, found.first_step)
    with_pv = np.where(found.first_step > 0, found.first_step - 1, hosting.buildings)
    summary = summarize(hosting, scenarios, found, capacity, {f: getattr(settings, f) for f in SETTINGS_FIELDS},
                        solve_s, power_flows=int(np.minimum(
                            with_pv + 1 + _round_rest(hosting.buildings, with_pv), hosting.buildings).sum()))
    median = median_scenario(capacity)
    vm = state_vm_pu(hosting, scenarios, median, int(with_pv[median]))
    figure = hosting_figure(
        hosting, capacity, found.kind, vm,
        {"scenario": median, "capacity_kwp": float(capacity[median]), "buildings_with_pv": int(with_pv[median])},
        f"PV hosting capacity of {settings.feeder} (seed {settings.seed}; voltage ≤ {settings.vm_max_pu} pu"
        + (f", rise ≤ {settings.voltage_rise_percent} %" if settings.voltage_rise_percent else "")
        + f", loading ≤ {settings.loading_max_percent:g} %; PV at {settings.pv_share:g} of kWp, "
        f"loads at {settings.load_share:g} of rating)",
        tuple(k for k in KINDS if k != "voltage_rise" or settings.voltage_rise_percent is not None))
    names = hosting.model.placed.net.bus.name.astype(str).tolist()
    return Study(summary=summary, median_vm_pu={n: float(v) for n, v in zip(names, vm, strict=True)},
                 figure_png=figure, hosting=hosting, scenarios=scenarios, found=found,
                 capacity_kwp=capacity)


def run(settings: HostingSettings) -> tuple[list[Path], dict[str, Any]]:
    """Solve one hosting-capacity study and write its files; returns the paths written and the summary.

    Raises
    ------
    grid.hosting.solve.HostingInputError, grid.snapshot.PowerFlowDiverged, ValueError
        Bad settings for this feeder, or a power flow that does not converge.
    store.format.OutputError
        The files cannot be written.
    """
    from grid.hosting.report import write_results

    started = time.monotonic()
    result = study(settings)
    summary = result.summary
    paths = write_results(settings.directory(), summary, result.hosting, result.scenarios, result.found,
                          result.capacity_kwp, result.figure_png)
    spread, share = summary["capacity_kwp"], summary["capacity_share_of_trafo"]
    log.info("hosting capacity of %s over %d scenarios: P5 %.1f / P50 %.1f / P95 %.1f kWp (%.2f / %.2f / %.2f of "
             "the %.0f kVA transformer); binding %s; solve %.2f s, total %.2f s -> %s", settings.feeder,
             settings.scenarios, spread["p5"], spread["p50"], spread["p95"], share["p5"], share["p50"], share["p95"],
             summary["trafo_kva"], ", ".join(f"{k} {v:.0%}" for k, v in summary["binding_share"].items() if v),
             summary["solve_s"], time.monotonic() - started, settings.directory())
    return paths, summary


def _round_rest(buildings: int, with_pv: np.ndarray) -> np.ndarray:
    """Steps solved after a scenario's first violation, to the end of its round (see grid.hosting.solve)."""
    from grid.hosting.solve import ROUNDS

    per_round = max(1, -(-buildings // ROUNDS))
    first = with_pv + 1  # the violating step (or one past the last)
    return np.asarray((-(first - 1) % per_round) * (with_pv < buildings), dtype=np.int64)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (2: bad settings or input, 1: output failure)."""
    settings = parse_settings(HostingSettings, argv, "grid hosting-capacity", DESCRIPTION)
    require_modules("grid", REQUIRED_MODULES, "requirements-grid.txt")
    from store.format import OutputError

    settings.configure_logging()
    try:
        run(settings)
    except ValueError as error:  # HostingInputError, PowerFlowDiverged, UnknownFeederError, ...
        print(f"grid hosting-capacity: error: {error}", file=sys.stderr)
        return 2
    except OutputError as error:
        print(f"grid hosting-capacity: error: {error}", file=sys.stderr)
        return 1
    return 0
