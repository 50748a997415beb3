"""A fake of the power flows (the seam :class:`api.power_flows.PowerFlows`) for tests of the plumbing."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from api.power_flows import PowerFlowError


class FakePowerFlows:
    """Deterministic, instant power flows: the grid draws what the buildings draw, voltages fall 0.01 pu per kW."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def feeders(self) -> list[str]:
        return ["seed"]

    def warm_up(self, feeder: str) -> None:
        self.calls.append(("warm_up", feeder))

    def load(self, p_mw: float, q_mvar: float) -> dict[str, Any]:
        self.calls.append(("load", (p_mw, q_mvar)))
        if p_mw > 10:
            raise PowerFlowError(f"the power flow did not converge for p_mw={p_mw}, q_mvar={q_mvar}")
        return {"active_power_mw": p_mw, "reactive_power_mvar": q_mvar, "grid_p_mw": p_mw * 1.05,
                "grid_q_mvar": q_mvar * 1.1, "losses_mw": p_mw * 0.05,
                "bus_vm_pu": {"MV bus": 1.02, "LV bus": 1.0, "load bus": 1.0 - p_mw / 3},
                "line_loading_percent": {"line": p_mw * 1000}, "trafo_loading_percent": {"transformer": p_mw * 300}}

    def buildings(self, feeder: str, powers_kw: Mapping[str, tuple[float, float]]) -> dict[str, Any]:
        self.calls.append(("buildings", (feeder, dict(powers_kw))))
        if feeder != "seed":
            raise PowerFlowError(f"unknown feeder '{feeder}' (available: seed)")
        net = {m: meter - pv for m, (meter, pv) in powers_kw.items()}
        return {"grid_p_kw": sum(net.values()), "grid_q_kvar": 0.33 * sum(m for m, _ in powers_kw.values()),
                "vm_min_pu": 1.0 - max(net.values()) / 100, "vm_max_pu": 1.02, "trafo_loading_percent": 10.0,
                "line_loading_max_percent": 20.0, "losses_kw": 0.1,
                "buildings": {m: {"vm_pu": 1.0 - p / 100, "p_kw": p, "q_kvar": 0.33 * powers_kw[m][0]}
                              for m, p in net.items()}}

    def buildings_series(self, feeder: str, powers_kw: Sequence[Mapping[str, tuple[float, float]]]
                         ) -> list[dict[str, Any]]:
        return [self.buildings(feeder, step) for step in powers_kw]

    def hosting_capacity(self, feeder: str, scenarios: int, seed: int,
                         progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        self.calls.append(("hosting_capacity", (feeder, scenarios, seed)))
        for step in (1, 2):
            if progress is not None:
                progress(step, 2)
        return {"active_power_mw": 0.0, "reactive_power_mvar": 0.0, "bus_vm_pu": {"LV bus": 1.03},
                "details": {"feeder": feeder, "scenarios": scenarios, "seed": seed,
                            "capacity_kwp": {"p50": 10.0 + seed}},
                "figure_png_base64": base64.b64encode(b"\x89PNG fake").decode()}

    def day(self, feeder: str, intervals: Sequence[Mapping[str, Any]], date: dt.date, timezone: str) -> dict[str, Any]:
        self.calls.append(("day", (feeder, len(intervals))))
        energy = sum((i["meter_power_kw"] - i["pv_power_kw"]) * i["interval_s"] / 3600 for i in intervals)
        return {"active_power_mw": 0.0, "reactive_power_mvar": 0.0, "details": {"summary": {"net_kwh": energy}}}
