"""The live results feed against the real RabbitMQ (own vhost): stored, acked after commit, pushed, dead-lettered."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pika
import pytest
from fastapi.testclient import TestClient

from common.schema import encode
from common.topology import DEAD_LETTER_QUEUE, REASON_HEADER, RESULTS_EXCHANGE, interval_routing_key, run_routing_key
from tests.api.helpers import interval, results_queue
from tests.conftest import queue_depth, rabbitmqctl

pytestmark = pytest.mark.integration

BERLIN_MIDNIGHT = datetime(2026, 6, 20, 22, 0, tzinfo=UTC)


def wait_for(condition: Callable[[], Any], timeout_s: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def publish(amqp_url: str, messages: list[tuple[str, bytes]]) -> None:
    """Publish persistent messages to ``pvsim.results`` with confirms."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.exchange_declare(RESULTS_EXCHANGE, "topic", durable=True)
        for key, body in messages:
            channel.basic_publish(RESULTS_EXCHANGE, key, body, pika.BasicProperties(
                delivery_mode=2, content_type="application/json"))
    finally:
        connection.close()


def live_client(make_client: Callable[..., TestClient], amqp_url: str, **overrides: Any) -> TestClient:
    client = make_client(live=True, amqp_url=amqp_url, **overrides)
    wait_for(lambda: client.get("/api/health").json()["live"]["broker"] == "connected", what="the consumer")
    return client


def test_intervals_are_stored_upserted_and_pushed_in_order(amqp_url: str,
                                                            make_client: Callable[..., TestClient]) -> None:
    client = live_client(make_client, amqp_url)
    results = [interval("meter-1", BERLIN_MIDNIGHT + timedelta(minutes=k), meter_kw=1.0 + k) for k in range(30)]
    with client.websocket_connect("/ws/live?types=interval") as ws:
        publish(amqp_url, [(interval_routing_key("meter-1"), encode(r)) for r in results])
        pushed = [ws.receive_json() for _ in range(30)]
    assert [p["interval_start"] for p in pushed] == [
        (BERLIN_MIDNIGHT + timedelta(minutes=k)).isoformat().replace("+00:00", "Z") for k in range(30)]
    assert pushed[0] == {"type": "interval", "meter_id": "meter-1", "interval_start": "2026-06-20T22:00:00Z",
                         "interval_s": 60, "readings": 60, "meter_power_kw": 1.0, "pv_power_kw": 0.5,
                         "net_power_kw": 0.5, "import_power_kw": 0.5, "export_power_kw": 0.0,
                         "battery_power_kw": None, "battery_soc_kwh": None}  # no battery: null
    day = client.get("/api/meters/meter-1/days/2026-06-21").json()["intervals"]
    assert [i["meter_power_kw"] for i in day] == [1.0 + k for k in range(30)]
    # a late row changes an interval: published again, stored in its place
    publish(amqp_url, [(interval_routing_key("meter-1"), encode(interval("meter-1", BERLIN_MIDNIGHT, meter_kw=9.0)))])
    wait_for(lambda: client.get("/api/meters/meter-1/days/2026-06-21").json()["intervals"][0]["meter_power_kw"] == 9.0,
             what="the upsert")
    assert len(client.get("/api/meters/meter-1/days/2026-06-21").json()["intervals"]) == 30
    wait_for(lambda: queue_depth(amqp_url, results_queue(client)) == 0, what="every message acked")


def test_a_batterys_power_and_soc_are_stored_and_pushed(amqp_url: str,
                                                       make_client: Callable[..., TestClient]) -> None:
    client = live_client(make_client, amqp_url)
    result = interval("meter-1", BERLIN_MIDNIGHT, meter_kw=1.0, pv_kw=3.0, battery_kw=1.5, soc_kwh=2.25)
    with client.websocket_connect("/ws/live?types=interval") as ws:
        publish(amqp_url, [(interval_routing_key("meter-1"), encode(result))])
        pushed = ws.receive_json()
    assert (pushed["battery_power_kw"], pushed["battery_soc_kwh"], pushed["net_power_kw"]) == (1.5, 2.25, -0.5)
    (stored,) = client.get("/api/meters/meter-1/days/2026-06-21").json()["intervals"]
    assert (stored["battery_power_kw"], stored["battery_soc_kwh"], stored["export_power_kw"]) == (1.5, 2.25, 0.5)


def test_bad_messages_are_dead_lettered_with_the_reason_and_the_rest_kept(
        amqp_url: str, make_client: Callable[..., TestClient]) -> None:
    client = live_client(make_client, amqp_url)
    good = [interval("meter-1", BERLIN_MIDNIGHT + timedelta(minutes=k)) for k in range(3)]
    publish(amqp_url, [
        (interval_routing_key("meter-1"), encode(good[0])),
        (interval_routing_key("meter-1"), b"not json"),
        (interval_routing_key("meter-1"), encode(good[1]).replace(b'"schema":1', b'"schema":7')),
        (interval_routing_key("meter-1"), encode(good[1])),
        (run_routing_key("meter-1"), b'{"schema": 1, "meter_id": "meter-1"}'),
        (interval_routing_key("meter-1"), encode(good[2])),
    ])
    wait_for(lambda: queue_depth(amqp_url, DEAD_LETTER_QUEUE) == 3, what="three dead letters")
    wait_for(lambda: len(client.get("/api/meters/meter-1/days/2026-06-21").json().get("intervals", [])) == 3,
             what="the three good intervals")  # dead-lettering comes before the batch's commit
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        reasons = []
        for _ in range(3):
            method, properties, _body = channel.basic_get(DEAD_LETTER_QUEUE, auto_ack=True)
            assert method is not None
            reasons.append((properties.headers["x-pvsim-routing-key"], properties.headers[REASON_HEADER]))
    finally:
        connection.close()
    assert "Invalid JSON" in reasons[0][1] or "json" in reasons[0][1].lower()
    assert "unknown schema version 7" in reasons[1][1]
    assert reasons[2][0] == "result.meter-1.run" and "run_id: Field required" in reasons[2][1]
    wait_for(lambda: client.get("/api/health").json()["live"]["dead_lettered"] == 3, what="the count")


def test_the_live_grid_runs_once_every_meter_reported_and_run_notices_are_stored(
        amqp_url: str, make_client: Callable[..., TestClient], fake_flows: Any) -> None:
    client = live_client(make_client, amqp_url)
    first, second = BERLIN_MIDNIGHT, BERLIN_MIDNIGHT + timedelta(minutes=1)
    with client.websocket_connect("/ws/live?types=grid,run") as ws:
        publish(amqp_url, [
            (interval_routing_key("meter-1"), encode(interval("meter-1", first, meter_kw=2.0, pv_kw=0.5))),
            (interval_routing_key("meter-2"), encode(interval("meter-2", first, meter_kw=3.0, pv_kw=1.0))),
        ])
        grid = wait_for(lambda: [m for m in [ws.receive_json()] if m["type"] == "grid" and m["meters"] == 2],
                        what="the grid result of both meters")[0]
        assert grid["interval_start"] == "2026-06-20T22:00:00Z"
        assert grid["grid_p_kw"] == pytest.approx(1.5 + 2.0)
        assert set(grid["buildings"]) == {"meter-1", "meter-2"}

        # meter-1 alone for the next interval: not complete (meter-2 reported today), no power flow
        publish(amqp_url, [(interval_routing_key("meter-1"), encode(interval("meter-1", second)))])
        wait_for(lambda: client.get("/api/meters/meter-1/days/2026-06-21").json()["intervals"][-1][
            "interval_start"] == "2026-06-20T22:01:00Z", what="the second interval")
        notice = {"schema": 1, "meter_id": "meter-2", "run_id": "run-1", "meters": ["meter-1", "meter-2"],
                  "readings": 120, "interval_s": 1, "first_timestamp": "2026-06-20T22:00:00Z",
                  "last_timestamp": "2026-06-20T22:01:59Z"}
        import orjson

        publish(amqp_url, [(run_routing_key("meter-2"), orjson.dumps(notice)),
                           (interval_routing_key("meter-2"), encode(interval("meter-2", second, meter_kw=1.0)))])
        seen = []
        while not any(m["type"] == "grid" and m["interval_start"] == "2026-06-20T22:01:00Z" for m in seen) or not any(
                m["type"] == "run" for m in seen):
            seen.append(ws.receive_json())
    run = next(m for m in seen if m["type"] == "run")
    assert (run["run_id"], run["meter_id"], run["meters"]) == ("run-1", "meter-2", ["meter-1", "meter-2"])
    results = client.get("/api/grid/days/2026-06-21").json()["results"]
    assert [(r["interval_start"], r["meters"]) for r in results] == [
        ("2026-06-20T22:00:00Z", 2), ("2026-06-20T22:01:00Z", 2)]
    feeders_called = {call[1][0] for call in fake_flows.calls if call[0] == "buildings"}
    assert feeders_called == {"seed"}
    assert client.get("/api/health").json()["live"]["runs_stored"] == 1


def test_a_backlog_of_intervals_gets_the_real_power_flows_in_batches(
        amqp_url: str, make_client: Callable[..., TestClient]) -> None:
    from api.power_flows import GridPowerFlows
    from grid.snapshot import run_buildings_snapshot

    client = live_client(make_client, amqp_url, flows=GridPowerFlows())
    results = [interval("meter-1", BERLIN_MIDNIGHT + timedelta(minutes=k), meter_kw=1.0 + k / 100, pv_kw=0.8)
               for k in range(300)]
    started = time.monotonic()
    publish(amqp_url, [(interval_routing_key("meter-1"), encode(r)) for r in results])
    grid = wait_for(lambda: (lambda r: r if len(r) == 300 else None)(
        client.get("/api/grid/days/2026-06-21").json().get("results", [])), timeout_s=120, what="300 grid results")
    elapsed = time.monotonic() - started
    # the batch (power-grid-model) agrees with pandapower's snapshot of the same interval
    snapshot = run_buildings_snapshot("seed", {"meter-1": (1.0 + 150 / 100, 0.8)})
    assert grid[150]["grid_p_kw"] == pytest.approx(snapshot.grid_p_kw, rel=1e-4)
    assert grid[150]["vm_min_pu"] == pytest.approx(snapshot.vm_min_pu, abs=1e-5)
    assert grid[150]["buildings"]["meter-1"]["vm_pu"] == pytest.approx(snapshot.buildings["meter-1"].vm_pu, abs=1e-5)
    assert client.get("/api/health").json()["grid_results_computed"] >= 300
    print(f"300 intervals stored and solved in {elapsed:.1f} s")


class NodeProxy:
    """A stand-in broker node: forwards 127.0.0.1:``port`` to the real broker until :meth:`stop`,
    which refuses new connections and cuts the forwarded ones (the node going away)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def connections_of(vhost: str) -> list[str]:
    """Process ids of the broker's client connections in ``vhost`` (what ``close_connection`` takes)."""
    lines = rabbitmqctl("list_connections", "pid", "vhost").splitlines()[1:]
    return [pid for pid, _tab, host in (line.rpartition("\t") for line in lines) if host == vhost]


def test_a_lost_connection_is_made_again_through_any_node_of_the_list(
        amqp_url: str, vhost: str, make_client: Callable[..., TestClient]) -> None:
    broker = urlsplit(amqp_url)
    proxy = NodeProxy((broker.hostname or "127.0.0.1", broker.port or 5672))
    via_proxy = urlunsplit((broker.scheme, f"{broker.netloc.rpartition(':')[0]}:{proxy.port}", broker.path, "", ""))
    try:
        client = live_client(make_client, f"{via_proxy},{amqp_url}")
        [first] = connections_of(vhost)
        # the node the service reached goes away: it must come back through the other one
        proxy.stop()
        wait_for(lambda: connections_of(vhost) and connections_of(vhost) != [first], what="a connection to node 2")
        # ... and after a drop there, through node 2 again, past the dead first node
        [second] = connections_of(vhost)
        rabbitmqctl("close_connection", second, "test: connection dropped")
        wait_for(lambda: connections_of(vhost) and connections_of(vhost) != [second], what="a new connection")
        wait_for(lambda: client.get("/api/health").json()["live"]["broker"] == "connected", what="the consumer")
        publish(amqp_url, [(interval_routing_key("meter-1"), encode(interval("meter-1", BERLIN_MIDNIGHT)))])
        wait_for(lambda: client.get("/api/meters/meter-1/days/2026-06-21").json().get("intervals"),
                 what="an interval stored after the reconnections")
    finally:
        proxy.stop()


def test_an_uncapped_dead_letter_queue_of_an_earlier_version_is_used_with_one_warning_and_shown_in_health(
        amqp_url: str, make_client: Callable[..., TestClient], caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import logging

    from common import topology

    monkeypatch.setattr(topology, "_warned", set())  # warned once per process: this test's own
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    connection.channel().queue_declare(DEAD_LETTER_QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
    connection.close()
    with caplog.at_level(logging.WARNING, logger="common.topology"):
        client = live_client(make_client, amqp_url)
        assert client.get("/api/health").json()["live"]["dead_letter_queue"] == "uncapped"
        good = interval("meter-1", BERLIN_MIDNIGHT)
        publish(amqp_url, [(interval_routing_key("meter-1"), b"not json"),
                           (interval_routing_key("meter-1"), encode(good))])
        wait_for(lambda: queue_depth(amqp_url, DEAD_LETTER_QUEUE) == 1, what="the dead letter in the old queue")
        wait_for(lambda: len(client.get("/api/meters/meter-1/days/2026-06-21").json().get("intervals", [])) == 1,
                 what="the good interval")
    warnings = [record.getMessage() for record in caplog.records if "predates the cap" in record.getMessage()]
    assert len(warnings) == 1 and "inequivalent arg 'x-max-length-bytes'" in warnings[0]
    assert topology.UNCAPPED_MIGRATION in warnings[0]
