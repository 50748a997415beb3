"""A day simulation may carry a battery (the ``--battery-*`` settings) for every building; stored batteries count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import interval, store_intervals

BERLIN_MIDNIGHT = datetime(2026, 6, 20, 22, 0, tzinfo=UTC)  # 2026-06-21 00:00 in Berlin
DAY = {"feeder": "seed", "date": "2026-06-21"}
# 1 kWh, 0.5 kW, lossless: easy to follow by hand
BATTERY = {"battery_kwh": 1.0, "battery_kw": 0.5, "battery_efficiency": 1.0}


def store_three_hours(client: TestClient, battery_kw: float | None = None) -> None:
    """Two hours of 2 kW surplus, then one of 2 kW deficit (hourly intervals of meter-1)."""
    store_intervals(client, [
        interval("meter-1", BERLIN_MIDNIGHT + timedelta(hours=k), meter_kw=meter_kw, pv_kw=pv_kw, interval_s=3600,
                 readings=3600, battery_kw=battery_kw, soc_kwh=None if battery_kw is None else 0.5)
        for k, (meter_kw, pv_kw) in enumerate([(1.0, 3.0), (1.0, 3.0), (2.0, 0.0)])])


def test_a_day_with_a_battery_in_the_request_dispatches_it_over_each_buildings_intervals(
        client: TestClient) -> None:
    store_three_hours(client)
    without = client.post("/api/simulations", json=DAY).json()
    assert without["details"]["summary"]["net_kwh"] == pytest.approx(-2.0)  # -2 - 2 + 2
    response = client.post("/api/simulations", json={**DAY, "battery": BATTERY})
    assert response.status_code == 201, response.text
    body = response.json()
    # charges 0.5 kW for two hours (then full), discharges 0.5 kW in the third: -1.5 - 1.5 + 1.5
    assert body["details"]["summary"]["net_kwh"] == pytest.approx(-1.5)
    assert body["details"]["battery_end_soc_kwh"] == {"meter-1": 0.5}
    assert body["request"]["battery"]["battery_kwh"] == 1.0 and body["request"]["battery"]["battery_kw"] == 0.5
    assert without["request"] == DAY  # no battery: the request as before
    assert client.post("/api/simulations", json={**DAY, "battery": {"battery_kwh": 0}}).json()[
        "details"]["summary"]["net_kwh"] == pytest.approx(-2.0)  # capacity 0: none, as with the flag


def test_stored_intervals_with_a_battery_count_it_and_refuse_a_second_one(client: TestClient) -> None:
    store_three_hours(client, battery_kw=0.5)
    stored = client.post("/api/simulations", json=DAY).json()
    assert stored["details"]["summary"]["net_kwh"] == pytest.approx(-2.0 + 1.5)  # net = meter - PV + battery
    second = client.post("/api/simulations", json={**DAY, "battery": BATTERY})
    assert second.status_code == 422
    assert "already carry a battery" in second.json()["detail"] and "meter-1" in second.json()["detail"]


@pytest.mark.parametrize(("battery", "says"), [
    ({"battery_kwh": -1}, "battery.battery_kwh: Input should be greater than or equal to 0"),
    ({"battery_kwh": 5, "battery_kw": 0}, "battery.battery_kw: Input should be greater than 0"),
    ({"battery_kwh": 5, "battery_efficiency": 1.5},
     "battery.battery_efficiency: Input should be less than or equal to 1"),
    ({"battery_kwh": 5, "battery_initial_soc_percent": 101}, "battery.battery_initial_soc_percent"),
    ({"battery_kwh": 5, "battery_strategy": "peak-shaving"},
     "unknown battery strategy 'peak-shaving' (choose from self-consumption, grid-friendly)"),
    ({"battery_kwh": 5, "capacity_kwh": 5}, "battery.capacity_kwh: Extra inputs are not permitted"),
    ({"battery_kwh": 5, "battery_strategy": "grid-friendly"}, "a grid-friendly battery needs pv_kwp"),
])
def test_bad_battery_settings_are_refused_with_what_is_wrong(client: TestClient, battery: dict[str, object],
                                                              says: str) -> None:
    response = client.post("/api/simulations", json={**DAY, "battery": battery})
    assert response.status_code == 422, response.text
    assert says in response.json()["detail"], response.json()["detail"]


def test_a_grid_friendly_battery_with_the_pv_peak_power_runs(client: TestClient) -> None:
    store_three_hours(client)
    response = client.post("/api/simulations", json={
        **DAY, "pv_kwp": 3.0, "battery": {**BATTERY, "battery_strategy": "grid-friendly"}})
    assert response.status_code == 201, response.text
    assert response.json()["request"]["pv_kwp"] == 3.0


def test_graphql_runs_a_day_with_a_battery_and_says_what_is_wrong_with_a_bad_one(client: TestClient) -> None:
    store_three_hours(client)
    mutation = ("mutation($battery: BatteryInput) { runSimulation(feeder: \"seed\", date: \"2026-06-21\", "
                "battery: $battery) { kind details request } }")

    def run(battery: dict[str, object]) -> dict[str, object]:
        response = client.post("/graphql", json={"query": mutation, "variables": {"battery": battery}})
        result: dict[str, object] = response.json()
        return result

    done = run({"batteryKwh": 1.0, "batteryKw": 0.5, "batteryEfficiency": 1.0})["data"]["runSimulation"]  # type: ignore[index]
    assert done["details"]["summary"]["net_kwh"] == pytest.approx(-1.5)
    assert done["request"]["battery"]["battery_kwh"] == 1.0
    bad = run({"batteryKwh": 5, "batteryStrategy": "peak-shaving"})
    assert "unknown battery strategy 'peak-shaving'" in bad["errors"][0]["message"]  # type: ignore[index]
