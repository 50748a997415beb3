"""The hosting-capacity figure: capacity distribution, binding constraints and the feeder map at the median scenario.

The map uses the feeder's bus coordinates (SimBench carries them; pandapower's
``plotting.create_bus_collection`` / ``create_line_collection`` draw them); a feeder
without coordinates (``seed``) gets pandapower's generic coordinates (igraph layout) if
available, else no map.
"""

from __future__ import annotations

import copy
import io
import logging

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from grid.hosting.scenarios import KINDS, NONE
from grid.hosting.solve import HostingFeeder

log = logging.getLogger(__name__)

KIND_LABELS = {"voltage": "voltage", "voltage_rise": "voltage rise", "line": "line loading",
               "trafo": "transformer loading", NONE: "none (whole feeder)"}
KIND_COLORS = {"voltage": "tab:red", "voltage_rise": "tab:orange", "line": "tab:blue", "trafo": "tab:purple",
               NONE: "tab:gray"}


def hosting_figure(hosting: HostingFeeder, capacity_kwp: np.ndarray, kinds: np.ndarray, median_vm_pu: np.ndarray,
                   median: dict[str, float | int], title: str, checked: tuple[str, ...] = KINDS) -> bytes:
    """The figure as PNG bytes.

    ``capacity_kwp`` (S,) [kWp] and ``kinds`` (S,) binding kind per scenario; ``median_vm_pu``:
    voltage of every bus of the placed feeder (``net.bus`` order) in the median scenario at its
    capacity [pu]; ``median``: its ``scenario``, ``capacity_kwp`` and ``buildings_with_pv``;
    ``checked``: the constraint kinds that were checked.
    """
    fig = Figure(figsize=(15, 5.6), layout="constrained")
    grid = fig.add_gridspec(1, 3, width_ratios=[1.1, 0.8, 1.4])
    _distribution(fig.add_subplot(grid[0]), capacity_kwp, kinds, hosting.trafo_kva)
    _binding(fig.add_subplot(grid[1]), kinds, checked)
    _map(fig, fig.add_subplot(grid[2]), hosting, median_vm_pu, median)
    fig.suptitle(title, fontsize=13)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def _distribution(ax: Axes, capacity_kwp: np.ndarray, kinds: np.ndarray, trafo_kva: float) -> None:
    spread = float(capacity_kwp.max() - capacity_kwp.min())
    bins = max(5, min(40, int(np.sqrt(capacity_kwp.size)))) if spread > 0 else 1
    ax.hist(capacity_kwp, bins=bins, color="tab:green", alpha=0.75, edgecolor="white")
    for q, style in ((5, ":"), (50, "-"), (95, "--")):
        value = float(np.percentile(capacity_kwp, q))
        ax.axvline(value, color="black", linestyle=style, linewidth=1.2, label=f"P{q} {value:.1f} kWp")
    ax.set_xlabel("hosting capacity [kWp]")
    ax.set_ylabel("scenarios")
    ax.set_title(f"Capacity over {capacity_kwp.size} deployments\n(transformer {trafo_kva:.0f} kVA)", fontsize=11)
    none = float(np.mean(kinds == NONE))
    if none:
        ax.set_xlabel(f"hosting capacity [kWp]\n({none:.1%} of scenarios without violation: capacity = all their PV)")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.25)  # room for the legend
    ax.legend(loc="upper left", fontsize=9)


def _binding(ax: Axes, kinds: np.ndarray, checked: tuple[str, ...]) -> None:
    names = [*KINDS, NONE]
    shares = [float(np.mean(kinds == k)) * 100 for k in names]
    labels = [KIND_LABELS[k] + ("" if k in checked or k == NONE else "\n(not checked)") for k in names]
    bars = ax.barh(labels, shares, height=0.6, color=[KIND_COLORS[k] for k in names])
    for bar, share in zip(bars, shares, strict=True):
        inside = share > 75
        ax.text(bar.get_width() - 2 if inside else bar.get_width() + 2, bar.get_y() + bar.get_height() / 2,
                f"{share:.1f} %", va="center", ha="right" if inside else "left", fontsize=10,
                color="white" if inside else "black")
    ax.set_xlim(0, 100)
    ax.invert_yaxis()
    ax.set_xlabel("share of scenarios [%]")
    ax.set_title("Binding constraint (first violation)", fontsize=11)


def _map(fig: Figure, ax: Axes, hosting: HostingFeeder, vm_pu: np.ndarray,
         median: dict[str, float | int]) -> None:
    import pandapower.plotting as plot

    net = copy.deepcopy(hosting.model.placed.net)
    lv = net.bus.index[net.bus.vn_kv <= 1.0]
    if "geo" not in net.bus or net.bus.geo.loc[lv].isna().any():
        _tree_coordinates(net)
    lines = net.line.index[net.line.from_bus.isin(lv) & net.line.to_bus.isin(lv)]
    lv_vm = vm_pu[np.isin(net.bus.index, lv)]
    low, high = float(lv_vm.min()), float(max(lv_vm.max(), lv_vm.min() + 1e-3))
    cmap = matplotlib.colormaps["plasma"]
    line_collection = plot.create_line_collection(net, lines=lines, color="0.55", linewidths=1.2, zorder=1)
    size = _marker_size(net, lv)
    bus_collection = plot.create_bus_collection(net, buses=lv, size=size, z=lv_vm, cmap=cmap, zorder=2)
    bus_collection.set_clim(low, high)
    pv_buses = hosting.model.placed.bus_index[:int(median["buildings_with_pv"])]
    coords = np.array([_xy(net.bus.geo.at[b]) for b in np.unique(pv_buses)]).reshape(-1, 2)
    trafo_bus = int(net.trafo.lv_bus.iloc[0])
    tx, ty = _xy(net.bus.geo.at[trafo_bus])
    ax.add_collection(line_collection)
    ax.add_collection(bus_collection)
    if coords.size:
        ax.scatter(coords[:, 0], coords[:, 1], s=90, facecolors="none", edgecolors="black", linewidths=0.9,
                   zorder=3, label="building with PV")
    ax.scatter([tx], [ty], marker="s", s=110, color="black", zorder=4, label="transformer")
    ax.autoscale_view()
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=9, frameon=False)
    colorbar = fig.colorbar(bus_collection, ax=ax, shrink=0.85)
    colorbar.set_label("bus voltage [pu]")
    ax.set_title(f"Median scenario #{median['scenario']} at its capacity:\n{median['capacity_kwp']:.1f} kWp on "
                 f"{median['buildings_with_pv']} of {hosting.buildings} buildings", fontsize=11)


def _tree_coordinates(net: object) -> None:
    """Coordinates for a feeder without any: the tree from the transformer, one row per hop (y = -hops)."""
    import json

    import networkx as nx
    import pandapower.topology as topology

    graph = topology.create_nxgraph(net, respect_switches=False)
    root = int(net.trafo.lv_bus.iloc[0])  # type: ignore[attr-defined]
    hops = nx.single_source_shortest_path_length(graph, root)
    rows: dict[int, int] = {}
    geo = {}
    for bus in net.bus.index:  # type: ignore[attr-defined]
        depth = hops.get(int(bus), -1)
        x = rows.get(depth, 0)
        rows[depth] = x + 1
        geo[bus] = json.dumps({"type": "Point", "coordinates": [float(x), -float(depth)]})
    net.bus["geo"] = net.bus.index.map(geo)  # type: ignore[attr-defined]


def _xy(geo: object) -> tuple[float, float]:
    """(x, y) of a pandapower GeoJSON point (a string or a dict)."""
    import json

    point = json.loads(geo) if isinstance(geo, str) else geo
    x, y = point["coordinates"]  # type: ignore[index]
    return float(x), float(y)


def _marker_size(net: object, buses: object) -> float:
    """Bus marker radius: about 1.2 % of the feeder's extent in map units."""
    import pandas as pd

    xy = np.array([_xy(g) for g in pd.Series(net.bus.geo).loc[buses]])  # type: ignore[attr-defined]
    extent = float(np.ptp(xy, axis=0).max()) if len(xy) > 1 else 1.0
    return max(extent, 1e-9) * 0.012
