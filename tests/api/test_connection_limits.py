"""A running ``python -m api`` caps its connections and WebSocket clients and drops slow or idle ones."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import orjson
import pytest
import websockets

from tests.api.test_many_clients import start_api

pytestmark = [pytest.mark.integration]


@pytest.fixture
def small_api(amqp_url: str, tmp_path: Path) -> Iterator[str]:
    process, base = start_api(amqp_url, tmp_path, max_connections="12", max_websocket_clients="3",
                              header_timeout_s="2", keep_alive_timeout_s="1", max_header_bytes="8192")
    yield base
    process.terminate()
    process.wait(timeout=30)


def _connect(base: str) -> socket.socket:
    parts = urlsplit(base)
    return socket.create_connection((parts.hostname, parts.port), timeout=15)


def _closed_by_server(sock: socket.socket, within_s: float, trickle: bytes = b"") -> bool:
    """Whether the server closes ``sock`` within ``within_s`` (sending ``trickle`` every 0.25 s meanwhile)."""
    deadline = time.monotonic() + within_s
    sock.settimeout(0.25)
    while time.monotonic() < deadline:
        try:
            if trickle:
                sock.sendall(trickle)
            if sock.recv(65536) == b"":
                return True
        except TimeoutError:
            continue
        except OSError:  # reset while sending
            return True
    return False


def test_slow_heads_and_idle_connections_are_closed_and_connections_beyond_the_cap_get_503(small_api: str) -> None:
    # a client trickling header lines is closed once the 2 s header timeout passes (it would go on for 12 s)
    trickler = _connect(small_api)
    trickler.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    assert _closed_by_server(trickler, 12, trickle=b"X-Slow: 1\r\n")
    # a head over the size limit (8 KiB here) is answered 400 and closed
    bulky = _connect(small_api)
    bulky.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Bulk: " + b"x" * 20_000 + b"\r\n\r\n")
    assert bulky.recv(65536).startswith(b"HTTP/1.1 400")
    assert _closed_by_server(bulky, 12)
    # a client that connects and says nothing, too
    assert _closed_by_server(_connect(small_api), 12)
    # a kept-alive connection idle after its response is closed after the 1 s keep-alive timeout
    kept = _connect(small_api)
    kept.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert kept.recv(65536).startswith(b"HTTP/1.1 200")
    assert _closed_by_server(kept, 12)
    # 12 connections open: the next request is answered 503, and once they are gone, served again
    held = [_connect(small_api) for _ in range(12)]
    refused = httpx.get(f"{small_api}/api/simulations/latest/active-power", timeout=10)
    assert refused.status_code == 503
    for sock in held:
        sock.close()
    time.sleep(0.5)
    assert httpx.get(f"{small_api}/api/health", timeout=10).status_code == 200


async def _stats(ws: websockets.ClientConnection) -> None:
    while orjson.loads(await asyncio.wait_for(ws.recv(), timeout=30))["type"] != "stats":
        pass


async def _websocket_cap(base: str) -> None:
    ws_base = base.replace("http://", "ws://")
    clients = [await websockets.connect(f"{ws_base}/ws/live") for _ in range(2)]
    clients.append(await websockets.connect(f"{ws_base}/ws/simulations"))
    for client in clients[:2]:
        await _stats(client)
    await asyncio.wait_for(clients[2].recv(), timeout=30)  # the latest simulation (null)
    for path in ("/ws/live", "/ws/simulations"):
        async with websockets.connect(f"{ws_base}{path}") as extra:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(extra.recv(), timeout=30)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
            assert "3 live clients already" in closed.value.rcvd.reason
    await clients.pop().close()
    await asyncio.sleep(0.5)
    async with websockets.connect(f"{ws_base}/ws/live") as admitted:
        await _stats(admitted)
    for client in clients:
        await client.close()


def test_websocket_clients_beyond_the_cap_are_closed_with_1013_and_a_reason(small_api: str) -> None:
    asyncio.run(_websocket_cap(small_api))
