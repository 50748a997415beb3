"""Exception handlers: every error is a JSON ``{"detail": "<what is wrong>"}`` with a fitting status.

Bad input → 4xx naming the field (never a 500 or a stack trace); an unreachable database → 503,
whose answer does not say where the database is (the log does, without its password).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.db.engine import DatabaseUnavailable, describe, is_unavailable
from api.power_flows import PowerFlowError
from api.simulations import DoesNotFit, NotFound
from common.redact import redact_urls

log = logging.getLogger(__name__)


def new_request_id() -> str:
    """A short id naming one failed request in the log and in the answer to its client."""
    return uuid.uuid4().hex[:16]


def describe_validation(errors: Any) -> str:
    """One line from pydantic/FastAPI validation errors: ``body.p_mw: Input should be a valid number; …``."""
    parts = []
    for item in errors:
        loc = ".".join(str(part) for part in item.get("loc", ()) if not str(part).startswith("function-")) or "body"
        parts.append(f"{loc}: {item.get('msg', 'invalid')}")
    return "; ".join(parts[:10]) + (f"; and {len(parts) - 10} more" if len(parts) > 10 else "")


DATABASE_UNAVAILABLE = "database unavailable"
"""What clients learn of a database outage: not its host, port or name."""


def database_unavailable(error: BaseException) -> str:
    """Log why the database is unreachable (once per call, passwords redacted); the client's one-line answer."""
    log.warning("database unreachable: %s", redact_urls(describe(error)))
    return DATABASE_UNAVAILABLE


def _problem(status_code: int, detail: str, **headers: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status_code, headers=headers or None)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        return _problem(status.HTTP_422_UNPROCESSABLE_CONTENT, describe_validation(error.errors()))

    @app.exception_handler(NotFound)
    async def _not_found(_request: Request, error: NotFound) -> JSONResponse:
        return _problem(status.HTTP_404_NOT_FOUND, str(error.args[0] if error.args else error))

    @app.exception_handler(DoesNotFit)
    async def _does_not_fit(_request: Request, error: DoesNotFit) -> JSONResponse:
        return _problem(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error))

    @app.exception_handler(PowerFlowError)
    async def _power_flow(_request: Request, error: PowerFlowError) -> JSONResponse:
        return _problem(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error))

    @app.exception_handler(DatabaseUnavailable)
    async def _database(_request: Request, error: DatabaseUnavailable) -> JSONResponse:
        return _problem(status.HTTP_503_SERVICE_UNAVAILABLE, f"{database_unavailable(error)}; try again shortly",
                        **{"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        if is_unavailable(error):
            return _problem(status.HTTP_503_SERVICE_UNAVAILABLE, f"{database_unavailable(error)}; try again shortly",
                            **{"Retry-After": "5"})
        request_id = new_request_id()
        log.exception("request %s: unexpected error on %s %s", request_id, request.method, request.url.path)
        return _problem(status.HTTP_500_INTERNAL_SERVER_ERROR,
                        f"internal error (request id {request_id}, logged by the service)")
