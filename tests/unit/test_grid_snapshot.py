"""The networks and the pandapower snapshot: the assignment's numbers, building physics, errors."""

from __future__ import annotations

import math

import pytest

from common.order import natural_order
from grid.buildings import BadPowerFactorError, TooManyMetersError, reactive_power
from grid.feeders import UnknownFeederError, available_feeders, build_feeder, seed_network
from grid.snapshot import PowerFlowDiverged, run_buildings_snapshot, run_load_snapshot


def test_seed_network_is_the_assignments_network() -> None:
    net = seed_network()
    assert list(net.bus.vn_kv) == [20.0, 0.4, 0.4]
    assert net.ext_grid.vm_pu.tolist() == [1.02]
    assert net.trafo.std_type.tolist() == ["0.4 MVA 20/0.4 kV"]
    assert net.line.std_type.tolist() == ["NAYY 4x50 SE"]
    assert net.line.length_km.tolist() == [0.1]
    assert (net.load.p_mw.tolist(), net.load.q_mvar.tolist()) == ([0.1], [0.05])
    assert net.load.bus.tolist() == [2]


def test_seed_snapshot_reproduces_the_assignments_result() -> None:
    result = run_load_snapshot()
    assert result.active_power_mw == pytest.approx(0.1)
    assert result.reactive_power_mvar == pytest.approx(0.05)
    assert list(result.bus_vm_pu.values()) == pytest.approx([1.02, 1.0088, 0.9644], abs=5e-5)
    assert result.line_loading_percent == {"line": pytest.approx(117.8, abs=0.05)}
    assert result.grid_p_mw == pytest.approx(result.active_power_mw + result.losses_mw)
    assert result.losses_mw > 0


def test_negative_load_is_generation_and_raises_the_voltage() -> None:
    result = run_load_snapshot(p_mw=-0.05, q_mvar=0.0)
    assert result.grid_p_mw < 0
    assert result.bus_vm_pu["load bus"] > result.bus_vm_pu["LV bus"]


@pytest.mark.parametrize("p_mw", [math.nan, math.inf, 10.0])
def test_bad_or_impossible_load_raises_power_flow_diverged(p_mw: float) -> None:
    with pytest.raises(PowerFlowDiverged):
        run_load_snapshot(p_mw=p_mw)
    assert run_load_snapshot().active_power_mw == pytest.approx(0.1)  # the cached network is still usable


def test_unknown_feeder_names_the_available_ones() -> None:
    with pytest.raises(UnknownFeederError, match="1-LV-semiurb4"):
        build_feeder("1-LV-nowhere")
    assert available_feeders()[0] == "seed"


def test_build_feeder_returns_independent_copies() -> None:
    first = build_feeder("seed")
    first.load.loc[:, "p_mw"] = 5.0
    assert build_feeder("seed").load.p_mw.tolist() == [0.1]


def test_reactive_power_follows_the_power_factor() -> None:
    assert reactive_power([1.0, 0.0], 0.95) == pytest.approx([math.tan(math.acos(0.95)), 0.0])
    assert reactive_power(2.0, 1.0) == pytest.approx(0.0)
    with pytest.raises(BadPowerFactorError):
        reactive_power(1.0, 0.0)


def test_natural_order_puts_meter_10_after_meter_2() -> None:
    assert natural_order(["meter-10", "meter-2", "meter-1"]) == ["meter-1", "meter-2", "meter-10"]


def test_seed_building_consumption_lowers_and_pv_export_raises_the_voltage() -> None:
    drawing = run_buildings_snapshot("seed", {"meter-1": (9.0, 0.0)})
    exporting = run_buildings_snapshot("seed", {"meter-1": (0.0, 9.0)})
    assert drawing.buildings["meter-1"].vm_pu < drawing.vm_max_pu
    assert exporting.buildings["meter-1"].vm_pu == exporting.vm_max_pu
    assert drawing.buildings["meter-1"].q_kvar == pytest.approx(9.0 * math.tan(math.acos(0.95)))
    assert exporting.buildings["meter-1"].p_kw == pytest.approx(-9.0)
    assert exporting.grid_p_kw < 0
    for snap in (drawing, exporting):
        assert snap.losses_kw >= 0
        assert snap.grid_p_kw == pytest.approx(sum(b.p_kw for b in snap.buildings.values()) + snap.losses_kw)


def test_more_meters_than_loads_is_an_error() -> None:
    with pytest.raises(TooManyMetersError, match="only 1 loads"):
        run_buildings_snapshot("seed", {"meter-1": (1.0, 0.0), "meter-2": (1.0, 0.0)})
