"""The feeders buildings can be placed on: the assignment's ``seed`` network and SimBench LV grids.

A registry maps a feeder name to a builder; :func:`build_feeder` returns a fresh copy of a
network built once per process (``pandapower.create_empty_network`` alone costs 20–200 ms,
reading a SimBench grid from its CSV files 4–6 s, 26 s on a busy machine). SimBench
networks are also kept on disk as pickles (0.04 s to load) in ``$PVSIM_CACHE_DIR``
(default ``$XDG_CACHE_HOME/pvsim`` or ``~/.cache/pvsim``), keyed by the pandapower and
simbench versions; delete the directory to rebuild them.

Sources
-------
- ``seed``: the power-flow service of the assignment — an external grid at 20 kV
  (vm 1.02 pu), pandapower's standard transformer "0.4 MVA 20/0.4 kV", 0.1 km of the
  standard cable "NAYY 4x50 SE" and one load of 0.1 MW / 0.05 Mvar at the far 0.4 kV bus.
- SimBench (Meinecke et al., "SimBench — A Benchmark Dataset of Electric Power Systems to
  Compare Innovative Solutions Based on Power Flow Analysis", Energies 13(12), 2020; data
  shipped offline by the ``simbench`` package): the six low-voltage grids of scenario 0
  (today) with switches, ``1-LV-<type><n>--0-sw``. Their own static generators are
  removed so that pvsim's PV is not counted twice; their loads stay as in the data set
  until :mod:`grid.buildings` replaces them. Each LV transformer gets the vector group
  "Dyn5" (its standard type's name says so; the data set leaves the column empty),
  which power-grid-model-io needs to convert the network.
"""

from __future__ import annotations

import copy
import functools
import logging
import os
import pickle
import threading
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import pandapower as pp

from grid.layout import SEED, SIMBENCH_LV

log = logging.getLogger(__name__)

#: SimBench low-voltage grids: pvsim name -> SimBench code (scenario 0, with switches).
SIMBENCH_FEEDERS: dict[str, str] = {name: f"{name}--0-sw" for name in SIMBENCH_LV}


class UnknownFeederError(ValueError):
    """A feeder name that is not in the registry; the message names the available feeders."""


def seed_network() -> pp.pandapowerNet:
    """The assignment's network: ext grid 20 kV (1.02 pu) → "0.4 MVA 20/0.4 kV" → 0.1 km "NAYY 4x50 SE" → load.

    Buses ``"MV bus"`` (20 kV), ``"LV bus"`` (0.4 kV, transformer secondary) and
    ``"load bus"`` (0.4 kV, end of the line); the load ``"load"`` draws 0.1 MW and
    0.05 Mvar. ``pp.runpp`` gives bus voltages 1.02 / 1.0088 / 0.9644 pu and a line
    loading of 117.8 % (pandapower 3.5.6).
    """
    net = pp.create_empty_network(name="seed")
    mv_bus = pp.create_bus(net, vn_kv=20.0, name="MV bus")
    lv_bus = pp.create_bus(net, vn_kv=0.4, name="LV bus")
    load_bus = pp.create_bus(net, vn_kv=0.4, name="load bus")
    pp.create_ext_grid(net, mv_bus, vm_pu=1.02, name="grid connection")
    pp.create_transformer(net, mv_bus, lv_bus, std_type="0.4 MVA 20/0.4 kV", name="transformer")
    pp.create_line(net, lv_bus, load_bus, length_km=0.1, std_type="NAYY 4x50 SE", name="line")
    pp.create_load(net, load_bus, p_mw=0.1, q_mvar=0.05, name="load")
    return net


def simbench_network(name: str) -> pp.pandapowerNet:
    """SimBench LV grid ``name`` (e.g. ``"1-LV-semiurb4"``) without its own generators.

    Raises
    ------
    UnknownFeederError
        If ``name`` is not one of :data:`SIMBENCH_FEEDERS`.
    """
    import simbench  # 1-2 s to import; only SimBench feeders need it

    if name not in SIMBENCH_FEEDERS:
        raise UnknownFeederError(_unknown(name))
    net = simbench.get_simbench_net(SIMBENCH_FEEDERS[name])
    net.name = name
    net.sgen.drop(index=net.sgen.index, inplace=True)
    net.trafo["vector_group"] = "Dyn5"
    # SimBench's time-series profiles are not used (pvsim's buildings replace the loads).
    net.profiles = {}
    return net


#: Feeder name -> builder of a fresh network. One entry per feeder.
FEEDERS: dict[str, Callable[[], pp.pandapowerNet]] = {
    SEED: seed_network,
    **{name: functools.partial(simbench_network, name) for name in SIMBENCH_FEEDERS},
}


def available_feeders() -> list[str]:
    """Names :func:`build_feeder` accepts, ``seed`` first."""
    return list(FEEDERS)


def _unknown(name: str) -> str:
    return f"unknown feeder '{name}' (available: {', '.join(available_feeders())})"


CACHE_FORMAT = 1
"""Bump when :func:`simbench_network` changes what it builds (invalidates the disk cache)."""


def cache_dir() -> Path:
    """Directory of the on-disk feeder cache (``$PVSIM_CACHE_DIR``, else the XDG cache directory)."""
    explicit = os.environ.get("PVSIM_CACHE_DIR")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pvsim"


def _disk_cached(name: str, build: Callable[[], pp.pandapowerNet]) -> pp.pandapowerNet:
    """``build()``, through a pickle in :func:`cache_dir` (a cache that cannot be read or written is skipped)."""
    key = f"{name}-pandapower{version('pandapower')}-simbench{version('simbench')}-v{CACHE_FORMAT}.pkl"
    path = cache_dir() / "grid-feeders" / key
    try:
        with path.open("rb") as handle:
            net: pp.pandapowerNet = pickle.load(handle)
        return net
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
        pass
    net = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(pickle.dumps(net))
        os.replace(temporary, path)
        log.info("feeder %s cached in %s", name, path)
    except OSError as error:
        log.info("feeder %s not cached (%s)", name, error)
    return net


_cache: dict[str, pp.pandapowerNet] = {}
_cache_lock = threading.Lock()


def cached_feeder(name: str) -> pp.pandapowerNet:
    """The process-wide network of feeder ``name``, built on first use. Do not modify it: copy it.

    Raises
    ------
    UnknownFeederError
        If ``name`` is not a registered feeder.
    """
    if name not in FEEDERS:
        raise UnknownFeederError(_unknown(name))
    with _cache_lock:
        if name not in _cache:
            build = FEEDERS[name]
            _cache[name] = build() if name == SEED else _disk_cached(name, build)
        return _cache[name]


def build_feeder(name: str) -> pp.pandapowerNet:
    """A fresh ``pandapowerNet`` of feeder ``name`` (``seed`` or a SimBench LV code such as ``1-LV-semiurb4``).

    The network is built once per process and deep-copied on each call, so callers may
    change it freely.

    Raises
    ------
    UnknownFeederError
        If ``name`` is not a registered feeder; the message lists the available ones.
    """
    return copy.deepcopy(cached_feeder(name))
