"""Natural order of meter ids and paths: digit runs compare as numbers (``meter-2`` before ``meter-10``).

The grid places meter *i* (in this order) on the feeder's *i*-th load, and the report lists
meters in the same order, so both name the buildings alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def natural_key(text: str) -> list[tuple[int, int | str]]:
    """Sort key of ``text``: its digit runs as numbers, the rest as strings.

    ``"m-10"`` -> ``[(1, "m-"), (0, 10), (1, "")]``.
    """
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text)]


def natural_order(meter_ids: Iterable[str]) -> list[str]:
    """``meter_ids`` sorted with digit runs compared as numbers (``meter-2`` before ``meter-10``)."""
    return sorted(meter_ids, key=natural_key)
