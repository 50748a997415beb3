"""A private PostgreSQL stopped and started under the service: 503s, the feed waits unacked, nothing is lost."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from common.schema import encode
from common.topology import interval_routing_key
from tests.api.conftest import settings_for
from tests.api.fakes import FakePowerFlows
from tests.api.helpers import interval
from tests.api.postgres_node import PostgresNode
from tests.api.test_live_feed import BERLIN_MIDNIGHT, publish, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def postgres_node() -> Iterator[PostgresNode]:
    node = PostgresNode()
    node.start()
    yield node
    node.remove()


def queue_messages(vhost: str, queue: str) -> int:
    """Ready plus unacknowledged messages of the service's queue."""
    out = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "messages"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    for line in out.splitlines():
        name, _, count = line.partition("\t")
        if name == queue:
            return int(count)
    return 0


def stored(client: TestClient) -> int:
    response = client.get("/api/meters/meter-1/days/2026-06-21")
    return len(response.json()["intervals"]) if response.status_code == 200 else -1


def test_database_outage_answers_503_keeps_the_feed_unacked_and_loses_nothing(
        vhost: str, amqp_url: str, postgres_node: PostgresNode, tmp_path: Path) -> None:
    results = [interval("meter-1", BERLIN_MIDNIGHT + timedelta(minutes=k), meter_kw=1.0 + k) for k in range(30)]
    key = interval_routing_key("meter-1")
    settings = settings_for(postgres_node.url, tmp_path, amqp_url=amqp_url, database_timeout_s=30)
    queue = settings.results_queue_name()
    with TestClient(create_app(settings, FakePowerFlows())) as client:
        wait_for(lambda: client.get("/api/health").json()["live"]["broker"] == "connected", what="the consumer")
        client.post("/api/simulations", json={})
        publish(amqp_url, [(key, encode(r)) for r in results[:10]])
        wait_for(lambda: stored(client) == 10, what="the first ten intervals")

        postgres_node.stop()
        for path in ("/api/simulations", "/api/simulations/1", "/api/meters/meter-1/days/2026-06-21", "/api/health"):
            down = client.get(path)
            assert down.status_code == 503, (path, down.text)
        # the latest simulation is kept in memory (this service writes every simulation)
        assert client.get("/api/simulations/latest/active-power").json()["active_power_mw"] == 0.1
        refused = client.post("/api/simulations", json={})
        assert refused.status_code == 503
        assert refused.json()["detail"].startswith("database unavailable")
        publish(amqp_url, [(key, encode(r)) for r in results[10:20]])
        wait_for(lambda: client.get("/api/health").json()["live"]["database"] == "unavailable", what="the feed noticed")
        wait_for(lambda: queue_messages(vhost, queue) == 10, what="ten results held unacked")  # rabbitmqctl lags

        postgres_node.start()
        wait_for(lambda: stored(client) == 20, timeout_s=60, what="the feed resuming")
        wait_for(lambda: queue_messages(vhost, queue) == 0, what="the acks")
        assert client.get("/api/simulations/latest/active-power").json()["active_power_mw"] == 0.1
        assert client.get("/api/health").status_code == 200

        postgres_node.stop()
        publish(amqp_url, [(key, encode(r)) for r in results[20:]])
        wait_for(lambda: client.get("/api/health").json()["live"]["database"] == "unavailable", what="the feed noticed")
    # the service stopped while the database was down: the unstored results wait in RabbitMQ
    wait_for(lambda: queue_messages(vhost, queue) == 10, what="ten results back in the queue")
    postgres_node.start()
    with TestClient(create_app(settings, FakePowerFlows())) as client:
        wait_for(lambda: stored(client) == 30, timeout_s=60, what="the restarted service catching up")
        day = client.get("/api/meters/meter-1/days/2026-06-21").json()["intervals"]
        assert [i["meter_power_kw"] for i in day] == [1.0 + k for k in range(30)]
        wait_for(lambda: queue_messages(vhost, queue) == 0, what="the acks")
