"""The fast path (power-grid-model batch) against pandapower's runpp, and the physics of buildings on feeders."""

from __future__ import annotations

import copy

import numpy as np
import pandapower as pp
import pytest

from grid.buildings import TooManyMetersError
from grid.feeders import available_feeders, cached_feeder
from grid.snapshot import PowerFlowDiverged, placed_feeder, run_buildings_snapshot
from grid.timeseries import bus_voltages, feeder_model, solve_day

SAMPLED_STEPS = 4


def day_of(loads: int, steps: int, seed: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Random but plausible meter [0, 9] kW and PV [0, 8] kW of ``loads`` buildings (some export, some draw)."""
    rng = np.random.default_rng(seed)
    meter_ids = [f"meter-{i}" for i in range(1, loads + 1)]
    return meter_ids, rng.uniform(0, 9, (steps, loads)), rng.uniform(0, 8, (steps, loads))


@pytest.mark.parametrize("feeder", available_feeders())
def test_fast_path_agrees_with_pandapower_runpp(feeder: str) -> None:
    buildings = min(len(cached_feeder(feeder).load), 41)
    meter_ids, meter_kw, pv_kw = day_of(buildings, SAMPLED_STEPS, seed=len(feeder))
    meter_kw[0] = 0.0  # an interval without consumption: pure export
    pv_kw[1] = 0.0  # and one without PV
    result = solve_day(feeder, meter_ids, meter_kw, pv_kw)
    buses, vm = bus_voltages(feeder, meter_ids, meter_kw, pv_kw)
    placed = feeder_model(feeder, tuple(meter_ids)).placed
    net = copy.deepcopy(placed.net)
    reference = copy.deepcopy(placed)
    object.__setattr__(reference, "net", net)
    for step in range(SAMPLED_STEPS):
        reference.set_powers(meter_kw[step], pv_kw[step], 0.95)
        pp.runpp(net, numba=False)
        assert np.abs(vm[step] - net.res_bus.vm_pu.loc[buses].to_numpy()).max() < 1e-4
        # The transformer is a T model in pandapower, a pi model in power-grid-model: about 2e-5 kW apart,
        # so the 0.1 % of grid P and Q get a floor of 1 W for intervals where the feeder is nearly balanced.
        assert result.grid_p_kw[step] == pytest.approx(net.res_ext_grid.p_mw.sum() * 1e3, rel=1e-3, abs=1e-3)
        assert result.grid_q_kvar[step] == pytest.approx(net.res_ext_grid.q_mvar.sum() * 1e3, rel=1e-3, abs=1e-3)
        losses_kw = (net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()) * 1e3
        assert result.losses_kw[step] == pytest.approx(losses_kw, rel=1e-3, abs=1e-3)
        assert result.trafo_loading_percent[step] == pytest.approx(net.res_trafo.loading_percent.max(), abs=0.01)
        assert result.line_loading_max_percent[step] == pytest.approx(net.res_line.loading_percent.max(), abs=0.01)
        assert result.vm_pu[step] == pytest.approx(net.res_bus.vm_pu.loc[placed.bus_index].to_numpy(), abs=1e-4)


def test_fast_path_agrees_with_the_snapshot_function() -> None:
    meter_ids, meter_kw, pv_kw = day_of(13, 2, seed=7)
    result = solve_day("1-LV-rural1", meter_ids, meter_kw, pv_kw)
    snap = run_buildings_snapshot("1-LV-rural1", {m: (meter_kw[1, i], pv_kw[1, i]) for i, m in enumerate(meter_ids)})
    assert result.vm_min_pu[1] == pytest.approx(snap.vm_min_pu, abs=1e-4)
    assert result.vm_max_pu[1] == pytest.approx(snap.vm_max_pu, abs=1e-4)
    assert result.grid_p_kw[1] == pytest.approx(snap.grid_p_kw, rel=1e-3)
    assert [result.vm_pu[1, i] for i in range(13)] == pytest.approx(
        [snap.buildings[m].vm_pu for m in meter_ids], abs=1e-4)


def test_without_pv_voltages_fall_along_the_feeder() -> None:
    meter_ids, meter_kw, _ = day_of(13, 1, seed=1)
    snap = run_buildings_snapshot("1-LV-rural1", {m: (meter_kw[0, i] + 1, 0.0) for i, m in enumerate(meter_ids)})
    net = placed_feeder("1-LV-rural1", tuple(meter_ids))[0].net  # the network the snapshot solved
    busbar_vm = net.res_bus.vm_pu.at[int(net.trafo.lv_bus.iloc[0])]
    assert all(b.vm_pu < busbar_vm for b in snap.buildings.values())
    assert snap.grid_p_kw > sum(b.p_kw for b in snap.buildings.values())


def test_strong_pv_export_raises_voltages_above_the_transformer() -> None:
    meter_ids = [f"meter-{i}" for i in range(1, 14)]
    snap = run_buildings_snapshot("1-LV-rural1", dict.fromkeys(meter_ids, (0.5, 12.0)))
    net = placed_feeder("1-LV-rural1", tuple(meter_ids))[0].net  # the network the snapshot solved
    busbar_vm = net.res_bus.vm_pu.at[int(net.trafo.lv_bus.iloc[0])]
    assert all(b.vm_pu > busbar_vm for b in snap.buildings.values())
    assert snap.grid_p_kw < 0  # the feeder exports
    assert snap.vm_max_pu > 1.03


@pytest.mark.parametrize("feeder", ["seed", "1-LV-semiurb4"])
def test_grid_power_is_building_power_plus_losses(feeder: str) -> None:
    meters = 1 if feeder == "seed" else 41
    meter_ids, meter_kw, pv_kw = day_of(meters, 3, seed=3)
    for step in range(3):
        snap = run_buildings_snapshot(feeder, {m: (meter_kw[step, i], pv_kw[step, i])
                                               for i, m in enumerate(meter_ids)})
        assert snap.losses_kw >= 0
        building_kw = sum(b.p_kw for b in snap.buildings.values())
        assert snap.grid_p_kw == pytest.approx(building_kw + snap.losses_kw, abs=1e-3)


def test_q_follows_the_power_factor_and_pv_is_generation() -> None:
    result = solve_day("seed", ["meter-1"], [[4.0], [0.0]], [[0.0], [4.0]], power_factor=0.9)
    assert result.q_kvar[:, 0] == pytest.approx([4.0 * np.tan(np.arccos(0.9)), 0.0])
    assert result.p_kw[:, 0] == pytest.approx([4.0, -4.0])
    assert result.grid_p_kw[0] > 4.0 > 0 > result.grid_p_kw[1]
    assert result.vm_pu[1, 0] > result.vm_pu[0, 0]


def test_shapes_and_values_are_checked() -> None:
    with pytest.raises(ValueError, match=r"\(T, 2\)"):
        solve_day("1-LV-rural1", ["meter-1", "meter-2"], np.zeros((3, 1)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="finite"):
        solve_day("seed", ["meter-1"], [[np.nan]], [[0.0]])
    with pytest.raises(TooManyMetersError):
        solve_day("seed", ["meter-1", "meter-2"], np.zeros((1, 2)), np.zeros((1, 2)))


def test_an_impossible_interval_raises_power_flow_diverged() -> None:
    with pytest.raises(PowerFlowDiverged, match="'seed' failed in interval 1 "):
        solve_day("seed", ["meter-1"], [[1.0], [20_000.0], [2.0]], [[0.0], [0.0], [0.0]])


def test_chunks_do_not_change_the_result() -> None:
    meter_ids, meter_kw, pv_kw = day_of(13, 10, seed=5)
    whole = solve_day("1-LV-rural1", meter_ids, meter_kw, pv_kw)
    chunked = solve_day("1-LV-rural1", meter_ids, meter_kw, pv_kw, chunk_steps=3)
    assert np.array_equal(whole.vm_pu, chunked.vm_pu)
    assert np.array_equal(whole.grid_p_kw, chunked.grid_p_kw)


def test_a_day_without_export_summarises_to_zero_not_minus_zero() -> None:
    import json

    from grid.summary import summarize_day

    meter_ids, meter_kw, pv_kw = day_of(loads=1, steps=4, seed=3)
    result = solve_day("seed", meter_ids, meter_kw, np.zeros_like(pv_kw), 0.95)
    stamps = [f"2026-06-21T00:{minute:02d}:00+02:00" for minute in range(0, 60, 15)]
    summary = summarize_day(result, stamps, 900, "2026-06-21")
    assert summary["exported_kwh"] == 0.0 and '"exported_kwh": 0.0' in json.dumps(summary)
