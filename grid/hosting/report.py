"""The result files of a hosting-capacity run: ``summary.json``, ``scenarios.csv``, ``replay.csv`` and the figure.

``scenarios.csv``: ``scenario,capacity_kwp,buildings_with_pv,binding,element,value,kinds``
(one row per scenario; ``binding`` ``none`` = every building got PV without a violation,
``value`` in pu for ``voltage``, % for ``voltage_rise``, ``line`` and ``trafo``).
``replay.csv``: ``scenario,step,building,bus,pv_kwp`` (the building that gets PV at each step,
every step of every scenario): with the settings in ``summary.json`` it replays any scenario.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from grid.hosting.scenarios import KINDS, NONE, Scenarios
from grid.hosting.solve import HostingFeeder, Violations
from grid.output import write_files

PERCENTILES = {"p5": 5, "p50": 50, "p95": 95}
SUMMARY, SCENARIOS, REPLAY, FIGURE = "summary.json", "scenarios.csv", "replay.csv", "hosting-capacity.png"


def _spread(values: np.ndarray) -> dict[str, float]:
    spread = {name: float(np.percentile(values, q)) for name, q in PERCENTILES.items()}
    return {**spread, "min": float(values.min()), "max": float(values.max()), "mean": float(values.mean())}


def median_scenario(capacity_kwp: np.ndarray) -> int:
    """Index of the scenario whose capacity is closest to the median (the first of equals)."""
    return int(np.argmin(np.abs(capacity_kwp - np.percentile(capacity_kwp, 50))))


def summarize(hosting: HostingFeeder, scenarios: Scenarios, found: Violations, capacity_kwp: np.ndarray,
              settings: dict[str, Any], solve_s: float, power_flows: int) -> dict[str, Any]:
    """``summary.json``: settings, P5/P50/P95/min/max/mean of the capacity [kWp], per building [kWp] and as a
    share of the transformer rating [-], the share of scenarios each constraint kind bound [-]."""
    kinds = {kind: float(np.mean(found.kind == kind)) for kind in (*KINDS, NONE)}
    return {
        "feeder": hosting.name,
        "scenarios": scenarios.count,
        "seed": settings.get("seed"),
        "buildings": hosting.buildings,
        "trafo_kva": hosting.trafo_kva,
        "settings": settings,
        "capacity_kwp": _spread(capacity_kwp),
        "capacity_per_building_kwp": _spread(capacity_kwp / hosting.buildings),
        "capacity_share_of_trafo": _spread(capacity_kwp / hosting.trafo_kva),
        "binding_share": kinds,
        "note": "capacity = PV installed before the first building whose PV violates a limit (0 if the first "
                "does); in scenarios without any violation (binding 'none') it is the whole feeder's PV",
        "base_vm_max_pu": float(hosting.base_vm_pu.max()),
        "median_scenario": median_scenario(capacity_kwp),
        "power_flows": power_flows,
        "solve_s": round(solve_s, 3),
    }


def scenario_rows(scenarios: Scenarios, found: Violations, capacity_kwp: np.ndarray) -> Iterable[bytes]:
    """``scenarios.csv``, header first."""
    yield b"scenario,capacity_kwp,buildings_with_pv,binding,element,value,kinds\n"
    with_pv = np.where(found.first_step > 0, found.first_step - 1, scenarios.buildings)
    lines = [f"{s},{capacity_kwp[s]:.3f},{with_pv[s]},{found.kind[s]},{_quoted(found.element[s])},"
             f"{'' if np.isnan(found.value[s]) else format(found.value[s], '.6f')},{found.kinds[s]}\n"
             for s in range(scenarios.count)]
    yield "".join(lines).encode()


def replay_rows(hosting: HostingFeeder, scenarios: Scenarios) -> Iterable[bytes]:
    """``replay.csv``, header first, in chunks of 1,000 scenarios."""
    yield b"scenario,step,building,bus,pv_kwp\n"
    buses = hosting.model.placed.net.bus.name.loc[hosting.model.placed.bus_index].astype(str).tolist()
    names = [_quoted(n) for n in hosting.building_names]
    bus_names = [_quoted(b) for b in buses]
    sizes = scenarios.size_in_order_kwp()
    for start in range(0, scenarios.count, 1000):
        lines = [f"{s},{k + 1},{names[b]},{bus_names[b]},{sizes[s, k]:.3f}\n"
                 for s in range(start, min(scenarios.count, start + 1000))
                 for k, b in enumerate(scenarios.order[s])]
        yield "".join(lines).encode()


def _quoted(text: str) -> str:
    return f'"{text}"' if any(c in text for c in ',"\n') else text


def write_results(directory: Path, summary: dict[str, Any], hosting: HostingFeeder, scenarios: Scenarios,
                  found: Violations, capacity_kwp: np.ndarray, figure_png: bytes | None) -> list[Path]:
    """Write the files into ``directory`` all-or-nothing; returns their paths. Raises ``store.format.OutputError``."""
    parts: dict[Path, Iterable[bytes]] = {
        directory / SUMMARY: ((json.dumps(summary, indent=1) + "\n").encode(),),
        directory / SCENARIOS: scenario_rows(scenarios, found, capacity_kwp),
        directory / REPLAY: replay_rows(hosting, scenarios),
    }
    if figure_png is not None:
        parts[directory / FIGURE] = (figure_png,)
    return write_files(directory, parts)

