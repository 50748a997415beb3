"""200 WebSocket clients on a real ``python -m api`` during a max-speed day each get every interval, in order."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import orjson
import pytest
import websockets

from common.schema import encode
from common.topology import interval_routing_key
from tests.api.helpers import interval
from tests.api.test_live_feed import BERLIN_MIDNIGHT, publish
from tests.conftest import ROOT, service_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLIENTS = 200
INTERVALS = 1440  # a day at 60 s


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_api(amqp_url: str, tmp_path: Path, **settings: str) -> tuple[subprocess.Popen[bytes], str]:
    """``python -m api`` on a free port with a SQLite database in ``tmp_path``; returns it and its base URL."""
    port = free_port()
    env = service_env(amqp_url, output_dir=str(tmp_path), api_port=str(port), **settings)
    log = open(tmp_path / "api.log", "wb")  # noqa: SIM115
    process = subprocess.Popen([sys.executable, "-m", "api"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"api exited {process.returncode}: {(tmp_path / 'api.log').read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/api/health", timeout=2).json()["live"]["broker"] == "connected":
                return process, base
        except (httpx.HTTPError, KeyError, ValueError):
            pass
        time.sleep(0.2)
    process.kill()
    raise AssertionError("api did not start within 120 s")


@pytest.fixture
def api_server(amqp_url: str, tmp_path: Path) -> Iterator[str]:
    process, base = start_api(amqp_url, tmp_path)
    yield base
    process.terminate()
    process.wait(timeout=30)


async def collect(url: str, count: int, ready: asyncio.Event, connected: list[int]) -> list[str]:
    starts: list[str] = []
    async with websockets.connect(url, max_queue=None) as ws:
        # the current values end with a stats message: from then on, every new interval comes live
        while orjson.loads(await asyncio.wait_for(ws.recv(), timeout=60))["type"] != "stats":
            pass
        connected.append(1)
        if len(connected) == CLIENTS:
            ready.set()
        while len(starts) < count:
            message = orjson.loads(await asyncio.wait_for(ws.recv(), timeout=120))
            if message["type"] == "interval":
                starts.append(message["interval_start"])
    return starts


def test_two_hundred_clients_each_receive_every_interval_in_order(api_server: str, amqp_url: str) -> None:
    results = [interval("meter-1", BERLIN_MIDNIGHT + timedelta(minutes=k), meter_kw=1.0 + k / 1000)
               for k in range(INTERVALS)]
    expected = [r.interval_start.isoformat().replace("+00:00", "Z") for r in results]
    url = api_server.replace("http", "ws") + "/ws/live?types=interval,stats"

    async def scenario() -> list[list[str]]:
        ready = asyncio.Event()
        connected: list[int] = []
        clients = [asyncio.create_task(collect(url, INTERVALS, ready, connected)) for _ in range(CLIENTS)]
        await asyncio.wait_for(ready.wait(), timeout=60)
        await asyncio.to_thread(publish, amqp_url, [(interval_routing_key("meter-1"), encode(r)) for r in results])
        return await asyncio.gather(*clients)

    received = asyncio.run(scenario())
    assert len(received) == CLIENTS
    for starts in received:
        assert starts == expected
    health = httpx.get(f"{api_server}/api/health", timeout=10).json()
    assert health["live"]["intervals_stored"] == INTERVALS
