"""``/api/grid``: the live grid results (the feeder's power flow per interval) of a local day."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from api.db import queries
from api.rest.meters import DatePath, check_day
from api.schemas import GridDay, GridResultOut, Problem
from api.services import Services, get_services
from api.simulations import NotFound, day_window

router = APIRouter(prefix="/api/grid", tags=["live results"])


@router.get("/days/{date}", response_model=GridDay, responses={404: {"model": Problem}})
def grid_day(
    date: DatePath,
    feeder: Annotated[str | None, Query(max_length=64, description="feeder (default: the service's --feeder)")] = None,
    services: Services = Depends(get_services),  # noqa: B008
) -> GridDay:
    """The feeder's power flow for each interval of a local day, in time order."""
    name = feeder or services.settings.feeder
    start, end = day_window(check_day(date), services.settings.tz)

    def fetch(session: Session) -> list[GridResultOut]:
        rows = queries.grid_results_between(session, name, start, end)
        return [GridResultOut.model_validate(row, from_attributes=True) for row in rows]

    results = services.db.run(fetch)
    if not results:
        raise NotFound(f"no live grid results of feeder '{name}' stored for {date} ({services.settings.timezone})")
    return GridDay(feeder=name, date=date, timezone=services.settings.timezone, results=results)
