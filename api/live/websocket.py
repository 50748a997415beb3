"""WebSocket endpoints: ``/ws/simulations`` and ``/ws/live``.

Each connection subscribes to the hub *before* reading the current values from the database,
so nothing stored in between is missed, then sends the current values, then every new
message in order. A client that falls more than ``--client-buffer`` messages behind is
closed with code 1013 (try again later) instead of slowing anyone else down. Beyond
``--max-websocket-clients`` clients of both endpoints together, a new one is closed at once with
code 1013 and a reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from api.db import queries
from api.live.hub import OVERFLOW, TOPICS, LiveMessage, Subscription
from api.schemas import GridResultOut, IntervalOut
from api.security import origin_allowed
from api.services import Services, get_services
from api.simulations import simulation_out

log = logging.getLogger(__name__)
router = APIRouter(tags=["live"])

TRY_AGAIN_LATER = 1013
POLICY_VIOLATION = 1008


async def _pump(websocket: WebSocket, subscription: Subscription,
                encode: Callable[[LiveMessage], str | None]) -> None:
    while True:
        message = await subscription.next()
        if message is OVERFLOW:
            await websocket.close(TRY_AGAIN_LATER, f"more than {subscription.queue.maxsize} messages behind")
            return
        text = encode(message)
        if text is not None:
            await websocket.send_text(text)


async def _until_closed(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()  # clients have nothing to say; this notices the close


async def serve(websocket: WebSocket, subscription: Subscription, current: list[str],
                encode: Callable[[LiveMessage], str | None]) -> None:
    """Send ``current``, then every message of ``subscription`` until the client leaves or falls behind."""
    try:
        for text in current:
            await websocket.send_text(text)
        tasks = {asyncio.create_task(_pump(websocket, subscription, encode)),
                 asyncio.create_task(_until_closed(websocket))}
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in done:
            if not task.cancelled() and task.exception() is not None and not isinstance(
                    task.exception(), WebSocketDisconnect | RuntimeError):
                log.warning("live client ended with %r", task.exception())
    except (WebSocketDisconnect, RuntimeError):  # gone while sending the current values
        pass
    finally:
        subscription.close()


async def admitted(websocket: WebSocket, services: Services, serve_client: Callable[[], Awaitable[None]]) -> None:
    """``serve_client()`` in one of the live-client slots, or close with 1013 when all are taken.

    A handshake from a page on a foreign origin (not ``--allowed-origins``) is refused (HTTP 403).
    """
    if not origin_allowed(websocket, services.allowed_origins):
        log.warning("refused a WebSocket to %s from origin %r", websocket.url.path, websocket.headers.get("origin"))
        await websocket.close(POLICY_VIOLATION)  # before accepting: the handshake gets 403
        return
    if not services.sockets.take():
        await websocket.accept()
        await websocket.close(TRY_AGAIN_LATER, f"{services.sockets.limit} live clients already; try again later")
        return
    try:
        await serve_client()
    finally:
        services.sockets.give_back()


@router.websocket("/ws/simulations")
async def simulations_socket(websocket: WebSocket, services: Services = Depends(get_services)) -> None:  # noqa: B008
    """On connect the latest simulation (as ``GET /api/simulations/{id}``, or ``null``), then each new one."""
    await admitted(websocket, services, lambda: _simulations(websocket, services))


async def _simulations(websocket: WebSocket, services: Services) -> None:
    subscription = services.hub.subscribe(["simulation"])  # before the handshake completes: nothing slips
    await websocket.accept()

    def latest(session: Session) -> dict[str, Any] | None:
        found = queries.latest_simulation(session)
        return simulation_out(found).model_dump(mode="json") if found else None

    try:
        current = await run_in_threadpool(services.db.run, latest)
    except Exception:
        subscription.close()
        await websocket.close(TRY_AGAIN_LATER, "database unavailable")
        return
    seen = current["id"] if current else 0

    def encode(message: LiveMessage) -> str | None:
        # A simulation stored between subscribing and reading is in both: send it once.
        return None if message.payload["id"] <= seen else orjson.dumps(message.payload).decode()

    await serve(websocket, subscription, [orjson.dumps(current).decode()], encode)


def current_live(session: Session, feeder: str) -> list[LiveMessage]:
    """What ``/ws/live`` sends on connect: each meter's latest interval, the latest grid result and simulation."""
    messages = [LiveMessage.of("interval", IntervalOut.model_validate(row, from_attributes=True)
                               .model_dump(mode="json")) for row in queries.latest_intervals(session)]
    grid = queries.latest_grid_result(session, feeder)
    if grid is not None:
        messages.append(LiveMessage.of("grid", GridResultOut.model_validate(grid, from_attributes=True)
                                       .model_dump(mode="json")))
    simulation = queries.latest_simulation(session)
    if simulation is not None:
        messages.append(LiveMessage.of("simulation", simulation_out(simulation).model_dump(mode="json")))
    return messages


@router.websocket("/ws/live")
async def live_socket(
    websocket: WebSocket,
    types: Annotated[str | None, Query(description="comma-separated message types (default: all)")] = None,
    services: Services = Depends(get_services),  # noqa: B008
) -> None:
    """Every stored result as a JSON object with a ``type``: ``interval``, ``grid``, ``run``, ``simulation``, ``stats``,
    and ``progress`` of a running simulation (``kind``, ``request``, ``done`` of ``total`` steps).

    On connect: each meter's latest interval, the latest grid result and simulation, and the
    pipeline counts (``stats``); then each new one as it is stored.
    """
    await admitted(websocket, services, lambda: _live(websocket, types, services))


async def _live(websocket: WebSocket, types: str | None, services: Services) -> None:
    wanted = [t.strip() for t in types.split(",") if t.strip()] if types else list(TOPICS)
    try:
        subscription = services.hub.subscribe(wanted)  # before the handshake completes: nothing slips
    except ValueError as error:
        await websocket.accept()
        await websocket.close(POLICY_VIOLATION, str(error)[:120])
        return
    await websocket.accept()
    try:
        current = await run_in_threadpool(services.db.run, lambda s: current_live(s, services.settings.feeder))
    except Exception:
        subscription.close()
        await websocket.close(TRY_AGAIN_LATER, "database unavailable")
        return
    current.append(LiveMessage.of("stats", services.consumer.stats()))
    texts = [message.text for message in current if message.type in subscription.topics]
    await serve(websocket, subscription, texts, lambda message: message.text)
