"""Hosting capacity: the scenario draw, the capacity rule, and the batch solver's verdicts re-checked with pp.runpp."""

from __future__ import annotations

import copy

import numpy as np
import pandapower as pp
import pytest

from grid.hosting.scenarios import PvSizes, Scenarios, capacity_kwp, draw_scenarios
from grid.hosting.solve import HostingFeeder, HostingInputError, Limits, check_base, find_violations, prepare

SAMPLED = 4


def test_scenarios_are_permutations_with_sizes_in_range_and_reproducible() -> None:
    first = draw_scenarios(200, 13, seed=5)
    again = draw_scenarios(200, 13, seed=5)
    other = draw_scenarios(200, 13, seed=6)
    assert np.array_equal(first.order, again.order) and np.array_equal(first.size_kwp, again.size_kwp)
    assert not np.array_equal(first.order, other.order)
    assert (np.sort(first.order, axis=1) == np.arange(13)).all()
    assert first.size_kwp.min() >= 1.0 and first.size_kwp.max() <= 30.0
    assert np.median(first.size_kwp) == pytest.approx(6.9, rel=0.1)
    assert first.size_kwp.mean() == pytest.approx(7.5, rel=0.1)
    assert (first.size_kwp <= 10).mean() == pytest.approx(0.82, abs=0.05)


def test_capacity_is_the_pv_before_the_first_violation() -> None:
    scenarios = Scenarios(order=np.array([[2, 0, 1]] * 3), size_kwp=np.array([[1.0, 2.0, 4.0]] * 3))
    assert scenarios.rank()[0].tolist() == [2, 3, 1]
    assert scenarios.pv_kwp(np.array([0]), np.array([2]))[0, 0].tolist() == [1.0, 0.0, 4.0]
    # violation at step 1: nothing fits; at step 3: buildings 2 and 0 (4 + 1 kWp); none: all 7 kWp
    assert capacity_kwp(scenarios, np.array([1, 3, 0])).tolist() == [0.0, 5.0, 7.0]


@pytest.fixture(scope="module")
def rural1() -> HostingFeeder:
    return prepare("1-LV-rural1")


def _pandapower(hosting: HostingFeeder, pv_kw: np.ndarray) -> tuple[pp.pandapowerNet, np.ndarray]:
    """The same state solved with pp.runpp; returns the net and the LV bus voltages [pu]."""
    placed = copy.deepcopy(hosting.model.placed)
    placed.set_powers(hosting.load_kw, pv_kw, hosting.operating.power_factor)
    pp.runpp(placed.net, numba=False)
    lv = placed.net.bus.index[placed.net.bus.vn_kv <= 1.0]
    return placed.net, placed.net.res_bus.vm_pu.loc[lv].to_numpy()


@pytest.mark.parametrize(("limits", "sizes"), [
    (Limits(vm_max_pu=1.04), PvSizes()),  # voltage binds
    (Limits(voltage_rise_percent=1.5), PvSizes()),  # a voltage rise binds (3 % never does here)
    (Limits(), PvSizes(median_kwp=25.0, sigma=0.2, max_kwp=30.0)),  # big plants: the transformer or a line
])
def test_pandapower_finds_no_violation_at_the_capacity_and_the_reported_one_a_building_later(
        rural1: HostingFeeder, limits: Limits, sizes: PvSizes) -> None:
    scenarios = draw_scenarios(50, rural1.buildings, seed=3, sizes=sizes)
    found = find_violations(rural1, scenarios, limits, chunk_rows=97)  # several chunks per round
    violated = np.flatnonzero(found.first_step > 0)
    assert violated.size >= SAMPLED
    _, base_vm = _pandapower(rural1, np.zeros(rural1.buildings))
    share = rural1.operating.pv_share
    for scenario in violated[:SAMPLED]:
        step = int(found.first_step[scenario])
        for at, should_fail in ((step - 1, False), (step, True)):
            pv_kw = scenarios.pv_kwp(np.array([scenario]), np.array([at]))[0, 0] * share
            net, vm = _pandapower(rural1, pv_kw)
            values = {"voltage": vm.max(), "voltage_rise": (vm - base_vm).max() * 100,
                      "line": net.res_line.loading_percent.max(), "trafo": net.res_trafo.loading_percent.max()}
            bounds = {"voltage": limits.vm_max_pu, "voltage_rise": limits.voltage_rise_percent or np.inf,
                      "line": limits.loading_max_percent, "trafo": limits.loading_max_percent}
            if should_fail:
                kind = str(found.kind[scenario])
                assert values[kind] > bounds[kind]
                assert values[kind] == pytest.approx(found.value[scenario], rel=1e-3)
            else:
                assert all(values[k] <= bounds[k] for k in values), (scenario, at, values)
    assert set(found.kind[violated]) <= {"voltage", "voltage_rise", "line", "trafo"}
    assert capacity_kwp(scenarios, found.first_step)[violated].max() < scenarios.size_kwp.sum(axis=1).max()


def test_a_feeder_that_takes_every_building_reports_the_whole_feeder(rural1: HostingFeeder) -> None:
    scenarios = draw_scenarios(20, rural1.buildings, seed=1, sizes=PvSizes(median_kwp=2.0, max_kwp=3.0))
    calls: list[tuple[int, int]] = []
    found = find_violations(rural1, scenarios, Limits(), progress=lambda step, total: calls.append((step, total)))
    assert (found.first_step == 0).all() and set(found.kind) == {"none"}
    assert [step for step, _ in calls] == [2, 4, 6, 8, 10, 12, 13] and {total for _, total in calls} == {13}
    assert capacity_kwp(scenarios, found.first_step) == pytest.approx(scenarios.size_kwp.sum(axis=1))


def test_a_limit_below_the_voltage_without_pv_is_refused(rural1: HostingFeeder) -> None:
    with pytest.raises(HostingInputError, match="below the voltage"):
        check_base(rural1, Limits(vm_max_pu=1.0))
    check_base(rural1, Limits())
