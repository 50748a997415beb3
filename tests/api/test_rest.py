"""REST behaviour in-process (fake power flows), on SQLite and on PostgreSQL."""

from __future__ import annotations

import gc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import settings_for
from tests.api.fakes import FakePowerFlows
from tests.api.helpers import day_of_intervals, interval, store_intervals

BERLIN_MIDNIGHT = datetime(2026, 6, 20, 22, 0, tzinfo=UTC)  # 2026-06-21 00:00 in Berlin


def test_an_empty_json_post_runs_the_assignment_network_and_latest_reads_it(client: TestClient) -> None:
    for path in ("/api/simulations/latest/active-power", "/api/simulations/latest/reactive-power"):
        missing = client.get(path)
        assert missing.status_code == 404
        assert "no simulation yet" in missing.json()["detail"]

    created = client.post("/api/simulations", headers={"content-type": "application/json"})  # no body: {}
    assert created.status_code == 201
    body = created.json()
    assert body["kind"] == "assignment"
    assert (body["active_power_mw"], body["reactive_power_mvar"]) == (0.1, 0.05)
    assert body["launched_at"].endswith("Z")
    assert body["bus_vm_pu"] and body["line_loading_percent"]

    active = client.get("/api/simulations/latest/active-power").json()
    reactive = client.get("/api/simulations/latest/reactive-power").json()
    assert active == {"active_power_mw": 0.1, "simulation_id": body["id"], "launched_at": body["launched_at"]}
    assert reactive == {"reactive_power_mvar": 0.05, "simulation_id": body["id"], "launched_at": body["launched_at"]}


def test_empty_object_and_a_given_load(client: TestClient) -> None:
    assert client.post("/api/simulations", json={}).json()["kind"] == "assignment"
    load = client.post("/api/simulations", json={"p_mw": 0.2, "q_mvar": 0.07})
    assert load.status_code == 201
    assert (load.json()["kind"], load.json()["active_power_mw"], load.json()["reactive_power_mvar"]) == (
        "load", 0.2, 0.07)
    assert client.get("/api/simulations/latest/reactive-power").json()["reactive_power_mvar"] == 0.07


def test_list_is_newest_first_and_paginated_and_by_id(client: TestClient) -> None:
    ids = [client.post("/api/simulations", json={"p_mw": 0.01 * k, "q_mvar": 0.0}).json()["id"] for k in range(1, 6)]
    page = client.get("/api/simulations", params={"limit": 2}).json()
    assert page["total"] == 5
    assert [s["id"] for s in page["simulations"]] == ids[::-1][:2]
    second = client.get("/api/simulations", params={"limit": 2, "offset": 2}).json()
    assert [s["id"] for s in second["simulations"]] == ids[::-1][2:4]
    assert client.get(f"/api/simulations/{ids[0]}").json()["active_power_mw"] == 0.01
    missing = client.get("/api/simulations/999999")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no simulation 999999"}


def test_bad_input_gets_4xx_with_a_message(client: TestClient) -> None:
    cases = [
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 422, "JSON decode error"),
        ({"json": {"p_mw": "lots", "q_mvar": 0}}, 422, "p_mw"),
        ({"json": {"p_mw": 0.1}}, 422, "q_mvar: Field required"),
        ({"json": {"voltage": 1}}, 422, "the body must be one of"),
        ({"json": [1, 2]}, 422, "the body must be one of"),
        ({"json": {"p_mw": 1e9, "q_mvar": 0}}, 422, "less than or equal to 100"),
        ({"json": {"p_mw": 20.0, "q_mvar": 0}}, 422, "did not converge"),
        ({"json": {"meter_id": "meter-9", "timestamp": "2026-06-21T12:00:00Z"}}, 404, "unknown meter 'meter-9'"),
        ({"json": {"meter_id": "meter-9", "timestamp": "2026-06-21T12:00:00"}}, 422, "timezone"),
        ({"json": {"feeder": "seed", "date": "2026-13-01"}}, 422, "date"),
        ({"json": {"feeder": "seed", "date": "2026-06-21"}}, 404, "no live results stored for 2026-06-21"),
        ({"json": {"feeder": "nowhere", "scenarios": 10}}, 422, "unknown feeder 'nowhere'"),
        ({"json": {"feeder": "seed", "scenarios": 0}}, 422, "scenarios"),
    ]
    for kwargs, status, fragment in cases:
        response = client.post("/api/simulations", **kwargs)  # type: ignore[arg-type]
        assert response.status_code == status, (kwargs, response.text)
        assert fragment in response.json()["detail"], (kwargs, response.text)
    assert client.get("/api/simulations", params={"limit": 0}).status_code == 422
    assert client.get("/api/simulations/abc").status_code == 422
    assert client.get("/api/meters/bad%20id/days/2026-06-21").status_code == 422
    assert client.get("/api/meters/meter-1/days/21-06-2026").status_code == 422
    assert client.get("/api/simulations", params={"limit": 2}).json()["total"] == 0


def test_body_over_the_limit_is_refused_with_413(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_body_bytes=2048)
    big = b'{"p_mw": 0.1, "q_mvar": 0.05, "pad": "' + b"x" * 4096 + b'"}'
    response = client.post("/api/simulations", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "2048-byte limit" in response.json()["detail"]

    def chunks():  # no Content-Length: counted while streaming
        yield big[:1000]
        yield big[1000:]

    streamed = client.post("/api/simulations", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    assert client.post("/api/simulations", json={}).status_code == 201


def test_token_guards_every_mutation(make_client: Callable[..., TestClient]) -> None:
    client = make_client(api_token="s3cret")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic czNjcmV0"}):
        refused = client.post("/api/simulations", json={}, headers=headers)
        assert refused.status_code == 401
        assert "bearer token" in refused.json()["detail"]
    assert client.post("/api/simulations", json={}, headers={"Authorization": "Bearer s3cret"}).status_code == 201
    assert client.get("/api/simulations/latest/active-power").status_code == 200  # reads stay open
    mutation = {"query": "mutation { runSimulation { id } }"}
    refused_gql = client.post("/graphql", json=mutation).json()
    assert refused_gql["data"] is None and "bearer token" in refused_gql["errors"][0]["message"]
    allowed = client.post("/graphql", json=mutation, headers={"Authorization": "Bearer s3cret"}).json()
    assert allowed["data"]["runSimulation"]["id"] == 2


def test_meters_and_their_days_from_stored_intervals(client: TestClient) -> None:
    store_intervals(client, day_of_intervals("meter-1", BERLIN_MIDNIGHT, 3)
                    + day_of_intervals("meter-2", BERLIN_MIDNIGHT, 2)
                    + [interval("meter-1", datetime(2026, 6, 20, 21, 59, tzinfo=UTC))])  # 23:59 on the 20th
    meters = client.get("/api/meters").json()
    assert [(m["meter_id"], m["intervals"]) for m in meters] == [("meter-1", 4), ("meter-2", 2)]
    assert meters[0]["first_interval_start"] == "2026-06-20T21:59:00Z"

    day = client.get("/api/meters/meter-1/days/2026-06-21").json()
    assert day["timezone"] == "Europe/Berlin"
    assert [i["interval_start"] for i in day["intervals"]] == [
        "2026-06-20T22:00:00Z", "2026-06-20T22:01:00Z", "2026-06-20T22:02:00Z"]
    assert day["intervals"][1]["meter_power_kw"] == 1.01
    assert set(day["intervals"][0]) >= {"interval_start", "meter_power_kw", "pv_power_kw", "net_power_kw"}

    unknown = client.get("/api/meters/meter-7/days/2026-06-21")
    assert unknown.status_code == 404 and "unknown meter" in unknown.json()["detail"]
    empty_day = client.get("/api/meters/meter-1/days/2026-06-23")
    assert empty_day.status_code == 404 and "2026-06-23" in empty_day.json()["detail"]
    assert client.get("/api/meters/meter-1/days/0001-01-01").status_code == 404


def test_a_building_simulation_uses_the_stored_interval_at_that_instant(client: TestClient) -> None:
    store_intervals(client, [interval("meter-1", BERLIN_MIDNIGHT, meter_kw=3.0, pv_kw=1.0)])
    response = client.post("/api/simulations", json={"meter_id": "meter-1", "timestamp": "2026-06-21T00:00:30+02:00"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "building"
    assert body["active_power_mw"] == 0.002  # the fake's building draws net = 3 - 1 kW
    assert body["details"]["interval_start"] == "2026-06-20T22:00:00Z"
    outside = client.post("/api/simulations", json={"meter_id": "meter-1", "timestamp": "2026-06-20T22:01:00Z"})
    assert outside.status_code == 404 and "no stored interval" in outside.json()["detail"]


def test_a_day_simulation_runs_over_the_stored_day(client: TestClient) -> None:
    store_intervals(client, day_of_intervals("meter-1", BERLIN_MIDNIGHT, 4))
    response = client.post("/api/simulations", json={"feeder": "seed", "date": "2026-06-21"})
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == "day"
    assert response.json()["details"]["summary"]["net_kwh"] > 0


def test_a_hosting_capacity_simulation_is_stored_with_its_summary(client: TestClient) -> None:
    response = client.post("/api/simulations", json={"feeder": "seed", "scenarios": 40, "seed": 3})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "hosting-capacity" and body["request"] == {"feeder": "seed", "scenarios": 40, "seed": 3}
    assert body["details"]["capacity_kwp"]["p50"] == 13.0
    assert client.get(f"/api/simulations/{body['id']}").json()["details"] == body["details"]
    assert "figure_png_base64" not in body
    figure = client.get(f"/api/simulations/{body['id']}/figure.png")
    assert figure.status_code == 200 and figure.headers["content-type"] == "image/png"
    assert figure.content == b"\x89PNG fake"
    launched = client.post("/api/simulations", json={})
    assert launched.status_code == 201, launched.text
    assignment = launched.json()["id"]
    assert client.get(f"/api/simulations/{assignment}/figure.png").status_code == 404  # other kinds have none
    assert client.get("/api/simulations/999999/figure.png").status_code == 404


def test_openapi_documents_the_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/simulations", "/api/simulations/latest/active-power", "/api/simulations/latest/reactive-power",
            "/api/simulations/{simulation_id}", "/api/meters", "/api/meters/{meter_id}/days/{date}",
            "/api/grid/days/{date}"} <= set(paths)
    assert client.get("/docs").status_code == 200


def test_latest_of_a_restarted_service_comes_from_the_database(make_client: Callable[..., TestClient]) -> None:
    first = make_client()
    stored = first.post("/api/simulations", json={"p_mw": 0.3, "q_mvar": 0.02}).json()
    restarted = make_client()
    assert restarted.get("/api/simulations/latest/active-power").json() == {
        "active_power_mw": 0.3, "simulation_id": stored["id"], "launched_at": stored["launched_at"]}
    assert restarted.get("/api/simulations/latest/reactive-power").headers["content-type"] == "application/json"
    newer = restarted.post("/api/simulations", json={}).json()
    assert restarted.get("/api/simulations/latest/reactive-power").json()["simulation_id"] == newer["id"]


def test_served_process_freezes_its_start_up_objects_out_of_the_collector(database_url: str, tmp_path: Path,
                                                                          fake_flows: FakePowerFlows) -> None:
    assert gc.get_freeze_count() == 0
    try:
        with TestClient(create_app(settings_for(database_url, tmp_path), fake_flows, live=False, freeze_gc=True)):
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
