"""A feeder day in a few numbers: voltage extremes, time outside the EN 50160 band, peak loadings, energies.

Voltages are those at the buildings' connection points (the supply terminals EN 50160
speaks of); EN 50160 allows 0.9–1.1 pu in low-voltage networks (for 95 % of 10-minute
means of a week; counted here per interval, a stricter reading). Energies integrate the
interval means over ``resolution_s``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from grid.timeseries import DayResult

VM_BAND_PU = (0.9, 1.1)
"""EN 50160 supply-voltage band in low-voltage networks [pu]."""


def summarize_day(result: DayResult, timestamps: Sequence[str], resolution_s: int, day: str) -> dict[str, Any]:
    """The day's summary as a JSON-ready dict.

    ``timestamps``: (T,) interval starts as text (local time with offset). Keys:
    ``vm_max_pu`` / ``vm_max_at`` / ``vm_max_meter_id`` and the same for ``vm_min``
    (building connection points) [pu]; ``minutes_outside_band`` (any building outside
    0.9–1.1 pu) [min]; ``trafo_loading_max_percent`` / ``_at`` and
    ``line_loading_max_percent`` / ``_at`` [%]; ``imported_kwh`` / ``exported_kwh`` through
    the transformer (positive / negative grid P) and ``losses_kwh`` [kWh].
    """
    hours = resolution_s / 3600.0
    vm = result.vm_pu
    summary: dict[str, Any] = {"feeder": result.feeder, "day": day, "resolution_s": resolution_s,
                               "intervals": result.steps, "buildings": len(result.meter_ids)}
    for name, pick in (("vm_max", np.argmax), ("vm_min", np.argmin)):
        step, building = np.unravel_index(int(pick(vm)), vm.shape)
        summary[f"{name}_pu"] = round(float(vm[step, building]), 6)
        summary[f"{name}_at"] = timestamps[int(step)]
        summary[f"{name}_meter_id"] = result.meter_ids[int(building)]
    outside = ((vm < VM_BAND_PU[0]) | (vm > VM_BAND_PU[1])).any(axis=1)
    summary["minutes_outside_band"] = round(float(outside.sum()) * resolution_s / 60.0, 4)
    for name, values in (("trafo_loading_max", result.trafo_loading_percent),
                         ("line_loading_max", result.line_loading_max_percent)):
        peak = int(np.argmax(values))
        summary[f"{name}_percent"] = round(float(values[peak]), 3)
        summary[f"{name}_at"] = timestamps[peak]
    grid_p = result.grid_p_kw
    summary["imported_kwh"] = round(float(grid_p[grid_p > 0].sum()) * hours, 6)
    summary["exported_kwh"] = round(float(-grid_p[grid_p < 0].sum()) * hours, 6) + 0.0  # + 0.0: no -0.0 in JSON
    summary["losses_kwh"] = round(float(result.losses_kw.sum()) * hours, 6)
    return summary
