"""How ``python -m api`` runs uvicorn: connection caps and the timeouts a slow client cannot stretch.

uvicorn's ``timeout_keep_alive`` is reset by every byte received, and nothing bounds the time
a client takes to send a request's header lines (or to send anything at all), so a client
trickling header lines held a connection as long as it liked, and httptools takes header
lines of any total size. :class:`HeaderTimeoutProtocol` closes a connection whose request head
is not complete ``header_timeout_s`` after the connection opened or after the previous
response, and answers 400 to a head (URL and header lines) over ``max_header_bytes``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.settings import ApiSettings

log = logging.getLogger(__name__)


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline [s] and a size limit [bytes] for each request head.

    Both are class attributes, set per server by :func:`uvicorn_config`.
    """

    header_timeout_s = 10.0
    max_header_bytes = 32_768

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_deadline: asyncio.TimerHandle | None = None
        self._head_bytes = 0

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self.max_header_bytes:
            # raised inside the parser's callback: uvicorn answers 400 and closes
            raise ValueError(f"request head over {self.max_header_bytes} bytes")

    def on_message_begin(self) -> None:
        self._head_bytes = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def _arm(self) -> None:
        self._disarm()
        self._head_deadline = self.loop.call_later(self.header_timeout_s, self._head_too_slow)

    def _disarm(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            log.info("closed a connection from %s: no complete request head within %.0f s",
                     self.client, self.header_timeout_s)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        waiting = self.cycle is None or self.cycle.response_complete  # not serving a pipelined request
        if waiting and not self.transport.is_closing():
            self._arm()  # the next request's head, on a kept-alive connection


class ServingServer(uvicorn.Server):
    """uvicorn's server that logs "serving on http://host:port" once its port is bound, never before.

    ``note`` [str] follows the address (e.g. the feeder). A port that is taken ends the start
    with uvicorn's own error line and no "serving on".
    """

    def __init__(self, config: uvicorn.Config, note: str = "") -> None:
        super().__init__(config)
        self.note = note

    async def startup(self, sockets: list[Any] | None = None) -> None:
        await super().startup(sockets)  # raises SystemExit if the port cannot be bound
        if self.started:
            port = self.servers[0].sockets[0].getsockname()[1]  # the bound one (--port 0: any free port)
            log.info("serving on http://%s:%d%s", self.config.host, port, f" ({self.note})" if self.note else "")


def uvicorn_config(app: Any, settings: ApiSettings) -> uvicorn.Config:
    """The uvicorn configuration of ``app``: address, caps and timeouts from ``settings``."""
    protocol = type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,),
                    {"header_timeout_s": settings.header_timeout_s, "max_header_bytes": settings.max_header_bytes})
    return uvicorn.Config(
        app, host=settings.host, port=settings.port, log_config=None, access_log=False, proxy_headers=False,
        http=protocol, ws_max_size=settings.max_body_bytes,
        limit_concurrency=settings.max_connections, timeout_keep_alive=settings.keep_alive_timeout_s,
        timeout_graceful_shutdown=settings.shutdown_timeout_s,
    )
