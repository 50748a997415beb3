"""GraphQL in-process: queries, the mutation, subscriptions (graphql-transport-ws), depth limit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from api.graphql.schema import graphql_router
from api.live.grid import grid_row
from api.live.hub import LiveMessage
from api.schemas import GridResultOut
from tests.api.helpers import day_of_intervals, store_intervals

BERLIN_MIDNIGHT = datetime(2026, 6, 20, 22, 0, tzinfo=UTC)


def gql(client: TestClient, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_queries_and_mutation(client: TestClient) -> None:
    assert gql(client, "{ latestSimulation { id } }") == {"data": {"latestSimulation": None}}
    created = gql(client, "mutation { runSimulation { id activePowerMw reactivePowerMvar launchedAt busVmPu } }")
    simulation = created["data"]["runSimulation"]
    assert (simulation["activePowerMw"], simulation["reactivePowerMvar"]) == (0.1, 0.05)
    assert simulation["launchedAt"].endswith("Z") and simulation["busVmPu"]["MV bus"] == 1.02
    loaded = gql(client, "mutation($p: Float!, $q: Float!) { runSimulation(pMw: $p, qMvar: $q) { id kind } }",
                 p=0.3, q=0.1)["data"]["runSimulation"]
    assert loaded["kind"] == "load"
    latest = gql(client, "{ latestSimulation { id activePowerMw reactivePowerMvar launchedAt } }")
    assert latest["data"]["latestSimulation"]["id"] == loaded["id"]
    assert latest["data"]["latestSimulation"]["reactivePowerMvar"] == 0.1
    listed = gql(client, "{ simulations(limit: 10) { id } }")["data"]["simulations"]
    assert [s["id"] for s in listed] == [loaded["id"], simulation["id"]]
    assert gql(client, "query($id: Int!) { simulation(id: $id) { kind } }", id=simulation["id"])["data"] == {
        "simulation": {"kind": "assignment"}}
    # the REST view agrees
    assert client.get("/api/simulations/latest/active-power").json()["active_power_mw"] == 0.3


def test_mutation_errors_say_what_is_wrong(client: TestClient) -> None:
    missing = gql(client, "mutation { runSimulation(pMw: 0.2) { id } }")
    assert missing["data"] is None and "q_mvar: Field required" in missing["errors"][0]["message"]
    diverged = gql(client, "mutation { runSimulation(pMw: 50, qMvar: 0) { id } }")
    assert "did not converge" in diverged["errors"][0]["message"]
    unknown = gql(client, "mutation { runSimulation(meterId: \"nobody\", timestamp: \"2026-06-21T00:00:00Z\") { id } }")
    assert "unknown meter" in unknown["errors"][0]["message"]
    assert gql(client, "{ latestSimulation { id } }")["data"]["latestSimulation"] is None


def test_live_intervals_and_meters(client: TestClient) -> None:
    store_intervals(client, day_of_intervals("meter-1", BERLIN_MIDNIGHT, 3))
    intervals = gql(client, '{ intervals(meterId: "meter-1", date: "2026-06-21") { intervalStart meterPowerKw } }')
    assert [i["intervalStart"] for i in intervals["data"]["intervals"]] == [
        "2026-06-20T22:00:00Z", "2026-06-20T22:01:00Z", "2026-06-20T22:02:00Z"]
    assert gql(client, "{ meters { meterId intervals } }")["data"]["meters"] == [{"meterId": "meter-1", "intervals": 3}]


def test_queries_deeper_than_the_limit_are_refused(make_client: Callable[..., TestClient]) -> None:
    client = make_client(graphql_max_depth=1)
    deep = gql(client, '{ gridResults(date: "2026-06-21") { buildings { vmPu } } }')
    assert deep["data"] is None and "exceeds maximum operation depth" in deep["errors"][0]["message"]
    assert gql(client, '{ gridResults(date: "2026-06-21") { gridPKw } }') == {"data": {"gridResults": []}}


def _subscribe(ws: WebSocketTestSession, query: str) -> None:
    ws.send_json({"type": "connection_init"})
    assert ws.receive_json() == {"type": "connection_ack"}
    ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": query}})


def _next(ws: WebSocketTestSession) -> Any:
    message = ws.receive_json()
    assert message["type"] == "next", message
    return message["payload"]["data"]


def test_simulation_subscription_yields_current_then_new(client: TestClient) -> None:
    first = client.post("/api/simulations", json={}).json()
    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        _subscribe(ws, "subscription { simulations { id activePowerMw } }")
        assert _next(ws) == {"simulations": {"id": first["id"], "activePowerMw": 0.1}}
        second = client.post("/api/simulations", json={"p_mw": 0.25, "q_mvar": 0.0}).json()
        assert _next(ws) == {"simulations": {"id": second["id"], "activePowerMw": 0.25}}
        third = gql(client, "mutation { runSimulation(pMw: 0.5, qMvar: 0.1) { id } }")["data"]["runSimulation"]
        assert _next(ws) == {"simulations": {"id": third["id"], "activePowerMw": 0.5}}


def test_simulation_subscription_yields_null_before_any(client: TestClient) -> None:
    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        _subscribe(ws, "subscription { simulations { id } }")
        assert _next(ws) == {"simulations": None}


def test_interval_and_grid_subscriptions(client: TestClient) -> None:
    store_intervals(client, day_of_intervals("meter-1", BERLIN_MIDNIGHT, 2))
    hub = client.app.state.services.hub  # type: ignore[attr-defined]
    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        _subscribe(ws, "subscription { intervals { meterId intervalStart } }")
        assert _next(ws) == {"intervals": {"meterId": "meter-1", "intervalStart": "2026-06-20T22:01:00Z"}}
        payload = {"meter_id": "meter-2", "interval_start": "2026-06-20T22:02:00Z", "interval_s": 60, "readings": 60,
                   "meter_power_kw": 1.0, "pv_power_kw": 0.0, "net_power_kw": 1.0}
        client.portal.call(hub.publish, LiveMessage.of("interval", payload))  # type: ignore[union-attr]
        assert _next(ws) == {"intervals": {"meterId": "meter-2", "intervalStart": "2026-06-20T22:02:00Z"}}
    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        _subscribe(ws, "subscription { gridResults { intervalStart gridPKw buildings { meterId vmPu } } }")
        state = {"grid_p_kw": 2.0, "grid_q_kvar": 0.5, "vm_min_pu": 0.98, "vm_max_pu": 1.02,
                 "trafo_loading_percent": 3.0, "line_loading_max_percent": 5.0, "losses_kw": 0.01,
                 "buildings": {"meter-1": {"vm_pu": 0.98, "p_kw": 2.0, "q_kvar": 0.5}}}
        row = grid_row("seed", BERLIN_MIDNIGHT, 60, 1, state, BERLIN_MIDNIGHT)
        message = LiveMessage.of("grid", GridResultOut.model_validate(row).model_dump(mode="json"))
        client.portal.call(hub.publish, message)  # type: ignore[union-attr]
        assert _next(ws) == {"gridResults": {"intervalStart": "2026-06-20T22:00:00Z", "gridPKw": 2.0,
                                             "buildings": [{"meterId": "meter-1", "vmPu": 0.98}]}}


def test_schema_is_the_published_one() -> None:
    # The object types are generated from the REST models: a renamed or retyped REST field must
    # not change the GraphQL schema unnoticed. After a deliberate change, write the file anew.
    published = (Path(__file__).parent / "schema.graphql").read_text()
    assert graphql_router(8).schema.as_str() + "\n" == published
