"""Guards: the optional bearer token and a JSON body on every mutation, WebSocket origins, the body size limit."""

from __future__ import annotations

import secrets

from fastapi import Depends, Header, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.http.websocket_origin import is_same_origin, normalize_origin

from api.services import Services, get_services

_bearer = HTTPBearer(auto_error=False, description="PVSIM_API_TOKEN, when the service has one")


def token_ok(expected: str | None, authorization: str | None) -> bool:
    """Whether an ``Authorization`` header value satisfies ``expected`` (always, when no token is set)."""
    if expected is None:
        return True
    if not authorization or not authorization.lower().startswith("bearer "):
        return False
    return secrets.compare_digest(authorization[7:].strip().encode(), expected.encode())


async def require_token(  # async: see api.services.get_services
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),  # noqa: B008
    services: Services = Depends(get_services),  # noqa: B008
) -> None:
    """Dependency of every mutating route: 401 unless the bearer token matches ``PVSIM_API_TOKEN``."""
    header = f"Bearer {credentials.credentials}" if credentials else None
    if not token_ok(services.settings.token(), header):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a valid bearer token is required (Authorization: Bearer …)",
                            headers={"WWW-Authenticate": "Bearer"})


async def require_json(content_type: str | None = Header(None, include_in_schema=False)) -> None:
    """Dependency of every mutating route: 415 unless ``Content-Type`` is ``application/json``.

    A page on another site can send a form or text POST without asking the browser first; a
    JSON one needs a CORS preflight, which this service does not grant. So a cross-site page
    cannot launch simulations even when the service has no token.
    """
    if (content_type or "").split(";")[0].strip().lower() != "application/json":
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                            "send Content-Type: application/json (and a JSON body, or {})")


def origin_allowed(connection: HTTPConnection, allowed: list[str]) -> bool:
    """Whether a WebSocket handshake may proceed: no ``Origin`` (not a browser), same origin, or ``allowed``.

    The same rule as Strawberry's for GraphQL over WebSocket (``strawberry.http.websocket_origin``).
    """
    origin = connection.headers.get("origin")
    if origin is None or is_same_origin(origin, connection.headers.get("host")):
        return True
    return "*" in allowed or normalize_origin(origin) in allowed


class BodySizeLimit:
    """ASGI middleware: a request body over ``max_bytes`` gets 413 before the app reads it whole."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._too_large(send)

    async def _too_large(self, send: Send) -> None:
        body = f'{{"detail":"request body over the {self.max_bytes}-byte limit"}}'.encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(StarletteHTTPException):
    """Raised from ``receive``: FastAPI passes HTTP exceptions through its body parsing, so this becomes a 413."""

    def __init__(self) -> None:
        super().__init__(status.HTTP_413_CONTENT_TOO_LARGE, "request body over the size limit")
