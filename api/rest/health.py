"""``/api/health``: is the service up, and can it reach its database and broker."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response, status
from sqlalchemy import text

from api.db.engine import DatabaseUnavailable
from api.errors import DATABASE_UNAVAILABLE, database_unavailable
from api.services import Services, get_services

router = APIRouter(prefix="/api", tags=["health"])


@router.get("/health")
def health(response: Response, services: Services = Depends(get_services)) -> dict[str, Any]:  # noqa: B008
    """``status`` ok (200) or ``database unavailable`` (503), with the live feed's state and counts."""
    try:
        services.db.run(lambda session: session.execute(text("SELECT 1")))
        database = "ok"
    except DatabaseUnavailable as error:
        database = database_unavailable(error)
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return {
        "status": "ok" if database == "ok" else DATABASE_UNAVAILABLE,
        "database": database, "feeder": services.settings.feeder,
        "live": services.consumer.stats(), "grid_results_computed": services.grid.computed,
    }
