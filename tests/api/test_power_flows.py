"""The service with the real power flows of ``grid`` (pandapower): the assignment's numbers through HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.power_flows import GridPowerFlows
from tests.api.helpers import interval, store_intervals

BERLIN_MIDNIGHT = datetime(2026, 6, 20, 22, 0, tzinfo=UTC)


@pytest.fixture
def grid_client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(flows=GridPowerFlows())


def test_the_assignment_network_through_post_and_get(grid_client: TestClient) -> None:
    created = grid_client.post("/api/simulations", json={})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["active_power_mw"] == pytest.approx(0.1)
    assert body["reactive_power_mvar"] == pytest.approx(0.05)
    assert [round(body["bus_vm_pu"][bus], 4) for bus in ("MV bus", "LV bus", "load bus")] == [1.02, 1.0088, 0.9644]
    assert body["line_loading_percent"]["line"] == pytest.approx(117.8, abs=0.05)
    assert body["grid_p_mw"] > body["active_power_mw"]  # the losses come from the grid
    assert grid_client.get("/api/simulations/latest/active-power").json()["active_power_mw"] == pytest.approx(0.1)
    assert grid_client.get("/api/simulations/latest/reactive-power").json()["reactive_power_mvar"] == pytest.approx(
        0.05)


def test_a_larger_load_lowers_the_voltage_and_a_diverging_one_is_a_422(grid_client: TestClient) -> None:
    light = grid_client.post("/api/simulations", json={"p_mw": 0.05, "q_mvar": 0.0}).json()
    heavy = grid_client.post("/api/simulations", json={"p_mw": 0.15, "q_mvar": 0.05}).json()
    assert heavy["bus_vm_pu"]["load bus"] < light["bus_vm_pu"]["load bus"] < 1.02
    diverged = grid_client.post("/api/simulations", json={"p_mw": 10.0, "q_mvar": 0.0})
    assert diverged.status_code == 422
    assert "did not converge" in diverged.json()["detail"]
    assert grid_client.get("/api/simulations").json()["total"] == 2


def test_a_stored_building_interval_on_the_seed_feeder(grid_client: TestClient) -> None:
    store_intervals(grid_client, [interval("meter-1", BERLIN_MIDNIGHT, meter_kw=4.0, pv_kw=1.0)])
    response = grid_client.post("/api/simulations", json={"meter_id": "meter-1", "timestamp": "2026-06-20T22:00:10Z"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "building"
    assert body["active_power_mw"] == pytest.approx(0.003)  # net = meter - PV
    assert body["reactive_power_mvar"] == pytest.approx(0.004 * 0.3287, rel=1e-3)  # meter P at power factor 0.95
    assert 0.9 < body["bus_vm_pu"]["meter-1"] < 1.05


def test_an_unknown_feeder_is_a_422_naming_it_even_before_any_result_is_stored(grid_client: TestClient) -> None:
    unknown = grid_client.post("/api/simulations", json={"feeder": "atlantis", "date": "2026-06-21"})
    assert unknown.status_code == 422, unknown.text
    assert "unknown feeder 'atlantis'" in unknown.text and "seed" in unknown.text


def test_a_day_of_stored_intervals_on_the_seed_feeder(grid_client: TestClient) -> None:
    store_intervals(grid_client, [interval("meter-1", BERLIN_MIDNIGHT + timedelta(minutes=k), meter_kw=1.0 + k / 10)
                                  for k in range(60)])
    response = grid_client.post("/api/simulations", json={"feeder": "seed", "date": "2026-06-21"})
    assert response.status_code == 201, response.text
    details = response.json()["details"]
    assert details["intervals"] == 60 and len(details["series"]) == 60
    assert details["summary"]["intervals"] == 60
    unknown = grid_client.post("/api/simulations", json={"feeder": "atlantis", "date": "2026-06-21"})
    assert unknown.status_code == 422 and "unknown feeder" in unknown.json()["detail"]


def test_a_hosting_capacity_simulation_is_the_command_s_study(grid_client: TestClient) -> None:
    created = grid_client.post("/api/simulations", json={"feeder": "1-LV-rural1", "scenarios": 30, "seed": 2})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["kind"] == "hosting-capacity"
    summary = body["details"]
    assert summary["feeder"] == "1-LV-rural1" and summary["scenarios"] == 30 and summary["seed"] == 2
    from grid.hosting.scenarios import capacity_kwp, draw_scenarios
    from grid.hosting.solve import Limits, find_violations, prepare

    hosting = prepare("1-LV-rural1")
    drawn = draw_scenarios(30, hosting.buildings, 2)
    capacity = capacity_kwp(drawn, find_violations(hosting, drawn, Limits()).first_step)
    assert summary["capacity_kwp"]["p50"] == pytest.approx(float(np.percentile(capacity, 50)))
    assert 1.0 < min(body["bus_vm_pu"].values()) <= max(body["bus_vm_pu"].values()) <= 1.10
    figure = grid_client.get(f"/api/simulations/{body['id']}/figure.png")
    assert figure.status_code == 200 and figure.content[:4] == b"\x89PNG" and len(figure.content) > 20_000
    refused = grid_client.post("/api/simulations", json={"feeder": "1-LV-rural1", "scenarios": 1001})
    assert refused.status_code == 422 and "scenarios" in refused.text
