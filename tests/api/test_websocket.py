"""WebSockets in-process: current value on connect, then every new one; the live feed's message shapes."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from api.live.hub import LiveMessage
from tests.api.helpers import day_of_intervals, store_intervals

BERLIN_MIDNIGHT = datetime(2026, 6, 20, 22, 0, tzinfo=UTC)


def test_simulations_socket_sends_null_then_each_new_simulation(client: TestClient) -> None:
    with client.websocket_connect("/ws/simulations") as ws:
        assert ws.receive_json() is None
        created = client.post("/api/simulations", json={}).json()
        assert ws.receive_json() == created
        second = client.post("/api/simulations", json={"p_mw": 0.2, "q_mvar": 0.1}).json()
        assert ws.receive_json() == second


def test_simulations_socket_sends_the_latest_on_connect(client: TestClient) -> None:
    client.post("/api/simulations", json={})
    latest = client.post("/api/simulations", json={"p_mw": 0.3, "q_mvar": 0.0}).json()
    with client.websocket_connect("/ws/simulations") as ws:
        assert ws.receive_json() == client.get(f"/api/simulations/{latest['id']}").json()


def test_live_socket_sends_current_values_then_typed_messages(client: TestClient) -> None:
    store_intervals(client, day_of_intervals("meter-1", BERLIN_MIDNIGHT, 2)
                    + day_of_intervals("meter-2", BERLIN_MIDNIGHT, 1))
    simulation = client.post("/api/simulations", json={}).json()
    with client.websocket_connect("/ws/live") as ws:
        current = [ws.receive_json() for _ in range(4)]
        assert [m["type"] for m in current] == ["interval", "interval", "simulation", "stats"]
        assert (current[0]["meter_id"], current[0]["interval_start"]) == ("meter-1", "2026-06-20T22:01:00Z")
        assert current[1]["meter_id"] == "meter-2"
        assert current[2]["id"] == simulation["id"]
        assert {"dead_letters", "queue_depth", "clients", "database"} <= set(current[3])
        created = client.post("/api/simulations", json={"p_mw": 0.2, "q_mvar": 0.0}).json()
        pushed = ws.receive_json()
        assert pushed == {"type": "simulation", **created}


def test_a_hosting_capacity_run_pushes_its_progress_then_the_simulation(client: TestClient) -> None:
    with client.websocket_connect("/ws/live?types=progress,simulation") as ws:
        created = client.post("/api/simulations", json={"feeder": "seed", "scenarios": 5}).json()
        pushed = [ws.receive_json() for _ in range(3)]
    request = {"feeder": "seed", "scenarios": 5, "seed": 0}
    assert pushed[:2] == [{"type": "progress", "kind": "hosting-capacity", "request": request, "done": step,
                           "total": 2} for step in (1, 2)]
    assert pushed[2] == {"type": "simulation", **created}


def test_live_socket_filters_by_type(client: TestClient) -> None:
    hub = client.app.state.services.hub  # type: ignore[attr-defined]
    with client.websocket_connect("/ws/live?types=run") as ws:
        client.post("/api/simulations", json={})
        client.portal.call(hub.publish, LiveMessage.of("run", {"run_id": "r1"}))  # type: ignore[union-attr]
        assert ws.receive_json() == {"type": "run", "run_id": "r1"}
    with client.websocket_connect("/ws/live?types=weather") as ws:
        closed = ws.receive()
        assert closed["type"] == "websocket.close" and closed["code"] == 1008
