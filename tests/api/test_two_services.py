"""Two ``python -m api`` on one vhost each get the whole live feed, through a queue of their own."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from common.schema import encode
from common.topology import interval_routing_key
from tests.api.helpers import day_of_intervals
from tests.api.test_live_feed import BERLIN_MIDNIGHT, publish, wait_for
from tests.api.test_many_clients import start_api
from tests.conftest import rabbitmqctl

pytestmark = [pytest.mark.integration]


def test_two_web_services_on_one_vhost_each_store_all_1440_intervals(vhost: str, amqp_url: str,
                                                                      tmp_path: Path) -> None:
    started = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        started.append(start_api(amqp_url, tmp_path / name))
    try:
        results = day_of_intervals("meter-1", BERLIN_MIDNIGHT, 1440)
        publish(amqp_url, [(interval_routing_key("meter-1"), encode(r)) for r in results])

        def stored(base: str) -> int:
            day = httpx.get(f"{base}/api/meters/meter-1/days/2026-06-21", timeout=10)
            return len(day.json()["intervals"]) if day.status_code == 200 else 0

        for _process, base in started:
            wait_for(lambda base=base: stored(base) == 1440, timeout_s=120, what=f"1,440 intervals at {base}")
            first = httpx.get(f"{base}/api/meters/meter-1/days/2026-06-21", timeout=10).json()["intervals"][0]
            assert first["interval_start"] == "2026-06-20T22:00:00Z"
        queues = [line.split("\t")[0] for line in rabbitmqctl("list_queues", "-p", vhost, "name").splitlines()]
        ports = sorted(base.rsplit(":", 1)[1] for _process, base in started)
        assert sorted(q.rsplit(".", 1)[1] for q in queues if q.startswith("pvsim.api.")) == ports
    finally:
        for process, _base in started:
            process.terminate()
            process.wait(timeout=30)
