"""The feeders' names (built in :mod:`grid.feeders`), importable without pandapower (settings, report, batch).

Where grid results live in the output directory is :mod:`store.layout`.
"""

from __future__ import annotations

SEED = "seed"
SIMBENCH_LV = ("1-LV-rural1", "1-LV-rural2", "1-LV-rural3", "1-LV-semiurb4", "1-LV-semiurb5", "1-LV-urban6")
"""The six SimBench low-voltage grids (13, 99, 118, 41, 104 and 111 loads)."""
FEEDER_NAMES = (SEED, *SIMBENCH_LV)



def check_feeder_name(name: str) -> str:
    """``name`` if it is a feeder (:data:`FEEDER_NAMES`); raises ``ValueError`` naming the available ones."""
    if name not in FEEDER_NAMES:
        raise ValueError(f"unknown feeder '{name}' (available: {', '.join(FEEDER_NAMES)})")
    return name
