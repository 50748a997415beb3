"""The sweep's figure (self-sufficiency against battery capacity, like HTW Berlin's independence calculator) and
its comparison with HTW Berlin's published anchors.

References
----------
.. [1] J. Weniger, T. Tjaden, V. Quaschning, "Sizing of residential PV battery systems",
   Energy Procedia 46 (2014) 78-87, doi:10.1016/j.egypro.2014.01.160 (figures 4 and 5: self-sufficiency of a
   4,700 kWh/a household against PV and battery size per MWh/a; their calculator:
   https://solar.htw-berlin.de/rechner/unabhaengigkeitsrechner/).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


@dataclass(frozen=True)
class Anchor:
    """A published self-sufficiency [%] range for a system size; sizes per MWh/a of consumption, or absolute."""

    label: str
    low_percent: float
    high_percent: float
    pv_kwp_per_mwh: float | None = None
    battery_kwh_per_mwh: float | None = None
    pv_kwp: float | None = None
    battery_kwh: float | None = None
    annual_kwh: tuple[float, float] = (0.0, float("inf"))

    def matches(self, row: dict) -> bool:
        """Whether a ``results.csv`` row is a system this anchor describes."""
        annual, pv, battery = float(row["annual_kwh"]), float(row["pv_kwp"]), float(row["battery_kwh"])
        checks = [(self.pv_kwp_per_mwh, pv * 1000 / annual), (self.battery_kwh_per_mwh, battery * 1000 / annual),
                  (self.pv_kwp, pv), (self.battery_kwh, battery)]
        in_range = self.annual_kwh[0] <= annual <= self.annual_kwh[1]
        return in_range and all(want is None or abs(got - want) < 1e-6 for want, got in checks)


HTW_ANCHORS = (
    Anchor("1 kWp/MWh + 1 kWh/MWh: about 54 % (HTW)", 50.0, 58.0, pv_kwp_per_mwh=1.0, battery_kwh_per_mwh=1.0),
    Anchor("5 kWp + 5 kWh, 4,000-5,000 kWh/a: 55-65 % (HTW)", 55.0, 65.0, pv_kwp=5.0, battery_kwh=5.0,
           annual_kwh=(4000.0, 5000.0)),
    Anchor("5 kWp alone, 4,000-5,000 kWh/a: about 30 % (HTW)", 25.0, 35.0, pv_kwp=5.0, battery_kwh=0.0,
           annual_kwh=(4000.0, 5000.0)),
)
"""HTW Berlin's figures the issue quotes (Weniger, Tjaden & Quaschning 2014 and their calculator, which assumes
95 % battery and 94 % converter efficiency)."""


def anchor_report(rows: Sequence[dict]) -> str:
    """One line per anchor and matching row: pvsim's self-sufficiency beside HTW's range, and the gap."""
    lines = []
    for anchor in HTW_ANCHORS:
        matched = [row for row in rows if anchor.matches(row)]
        if not matched:
            lines.append(f"{anchor.label}: no point of this sweep matches")
        for row in matched:
            ours = float(row["self_sufficiency_percent"])
            gap = 0.0 if anchor.low_percent <= ours <= anchor.high_percent else (
                ours - anchor.high_percent if ours > anchor.high_percent else ours - anchor.low_percent)
            lines.append(f"{anchor.label}: pvsim {ours:.1f} % at {row['pv_kwp']} kWp, {row['battery_kwh']} kWh, "
                         f"{row['annual_kwh']} kWh/a ({'within' if gap == 0 else f'{gap:+.1f} points outside'})")
    over = [row for row in rows if float(row["self_sufficiency_percent"]) > 70]
    smallest = min(over, key=lambda row: (float(row["battery_kwh"]), float(row["pv_kwp"])), default=None)
    lines.append("above 70 % (HTW: needs very large systems): " + (
        "no point of this sweep" if smallest is None else
        f"smallest battery {smallest['battery_kwh']} kWh with {smallest['pv_kwp']} kWp "
        f"at {smallest['annual_kwh']} kWh/a ({float(smallest['self_sufficiency_percent']):.1f} %)"))
    return "\n".join(lines) + "\n"


def plot_sweep(rows: Sequence[dict], png_path: Path, subtitle: str) -> Path:
    """Self-sufficiency [%] against battery capacity per MWh/a, one line per PV size per MWh/a, a panel per
    annual consumption; returns ``png_path``."""
    consumptions = sorted({float(row["annual_kwh"]) for row in rows})
    figure, axes = plt.subplots(1, len(consumptions), figsize=(6.4 * len(consumptions), 4.8), squeeze=False,
                                sharey=True)
    for axis, annual in zip(axes[0], consumptions, strict=True):
        mine = [row for row in rows if float(row["annual_kwh"]) == annual]
        for pv_kwp in sorted({float(row["pv_kwp"]) for row in mine}):
            line = sorted((float(row["battery_kwh"]) * 1000 / annual, float(row["self_sufficiency_percent"]))
                          for row in mine if float(row["pv_kwp"]) == pv_kwp)
            axis.plot(*zip(*line, strict=True), marker="o",
                      label=f"{pv_kwp:g} kWp ({pv_kwp * 1000 / annual:.2f} kWp/MWh)")
        for anchor in HTW_ANCHORS:
            if anchor.pv_kwp_per_mwh is not None and anchor.battery_kwh_per_mwh is not None:
                axis.errorbar([anchor.battery_kwh_per_mwh], [(anchor.low_percent + anchor.high_percent) / 2],
                              yerr=[[(anchor.high_percent - anchor.low_percent) / 2]], fmt="s", color="black",
                              capsize=4, label="HTW: 1 kWp/MWh + 1 kWh/MWh")
        axis.set_title(f"{annual:,.0f} kWh/a")
        axis.set_xlabel("usable battery capacity [kWh per MWh/a]")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8, loc="lower right")
    axes[0][0].set_ylabel("self-sufficiency [%]")
    axes[0][0].set_ylim(0, 100)
    figure.suptitle(f"Self-sufficiency with PV and a battery\n{subtitle}", fontsize=10)
    figure.tight_layout()
    figure.savefig(png_path, dpi=100)
    plt.close(figure)
    return png_path
