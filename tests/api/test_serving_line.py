"""``python -m api`` says "serving on http://..." only once its port is bound."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import pytest

from api.server import ServingServer, uvicorn_config
from api.settings import ApiSettings
from common.cli import parse_settings


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The smallest ASGI app with a lifespan."""
    while scope["type"] == "lifespan":
        message = await receive()
        await send({"type": message["type"] + ".complete"})
        if message["type"] == "lifespan.shutdown":
            return


def _server(port: int) -> ServingServer:
    settings = parse_settings(ApiSettings, ["--host", "127.0.0.1", "--port", str(port)], "api", "")
    config = uvicorn_config(_app, settings)
    config.load()
    server = ServingServer(config, "feeder seed")
    server.lifespan = config.lifespan_class(config)  # as uvicorn.Server.serve does before startup()
    return server


def test_a_taken_port_ends_the_start_without_saying_serving_on(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(SystemExit):
            asyncio.run(_server(taken.getsockname()[1]).startup())
    assert "address already in use" in caplog.text
    assert "serving on" not in caplog.text


def test_serving_on_names_the_bound_port_once_it_accepts_connections(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = _server(port)

    async def start_and_stop() -> None:
        await server.startup()
        assert f"serving on http://127.0.0.1:{port} (feeder seed)" in caplog.text
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)  # bound: it accepts
        writer.close()
        await server.shutdown()

    asyncio.run(start_and_stop())
    assert caplog.text.count("serving on") == 1
