"""A 3-node RabbitMQ cluster of private nodes: the node the services use is killed mid-day; the day is exact.

The nodes run beside the shared broker with their own ports, data, config and
plugins files (:class:`tests.broker_node.BrokerCluster`); ``AMQP_URL`` lists all three.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from common import topology
from tests.broker_node import BrokerCluster
from tests.expect import assert_day_exact, plan_for
from tests.feed import ResultsQueue, assert_results_equal_csv
from tests.integration.test_faults import Services, csv_rows, finished, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAY = date(2026, 6, 21)


@pytest.fixture(scope="module")
def cluster() -> Iterator[BrokerCluster]:
    nodes = BrokerCluster(3)
    try:
        formed_s = nodes.start()
        print(f"\n3-node cluster formed in {formed_s:.1f} s")
        yield nodes
    finally:
        nodes.destroy()


def connected_port(log: Path) -> int:
    """Port of the node a service connected to last (from its log)."""
    return int(re.findall(r"connected to broker at 127\.0\.0\.1:(\d+)", log.read_text())[-1])


def test_killing_the_node_the_services_use_mid_day_loses_and_doubles_nothing(
    cluster: BrokerCluster, tmp_path: Path
) -> None:
    services = Services(cluster.url, tmp_path)
    results = ResultsQueue(cluster.url, quorum=True)
    pv, pv_log = services.pv()
    wait_for(lambda: "consuming from" in pv_log.read_text(), 60, "the PV simulator to declare and consume")
    members = cluster.nodes[0].ctl("list_queues", "-q", "name", "members")
    line = next(row for row in members.splitlines() if row.startswith(topology.QUEUE + "\t"))
    assert all(node.nodename in line for node in cluster.nodes), f"quorum queue not on every node: {line}"
    meter, meter_log = services.meter()
    wait_for(lambda: csv_rows(services.csv) >= 20_000, 90, "20,000 rows")
    port = connected_port(pv_log)
    assert connected_port(meter_log) == port == cluster.nodes[0].port  # the first node listed
    killed_at = csv_rows(services.csv)
    cluster.node_on_port(port).kill()
    finished(meter, meter_log)
    finished(pv, pv_log)
    print(f"\nnode on port {port} killed at {killed_at} rows; the services moved on to "
          f"{connected_port(pv_log)} (PV) and {connected_port(meter_log)} (meter)")
    assert killed_at < 86_400
    for log in (pv_log, meter_log):
        assert "connection to broker lost" in log.read_text()
        assert connected_port(log) != port
    assert assert_day_exact(services.out, plan_for(DAY)) == 86_400
    assert assert_results_equal_csv(results.drain(wait_s=5), services.csv, "meter-1", 60) == 1440
