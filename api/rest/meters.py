"""``/api/meters``: the meters of the live feed and their stored intervals of a local day."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from sqlalchemy.orm import Session

from api.db import queries
from api.schemas import IntervalOut, MeterDay, MeterOut, Problem
from api.services import Services, get_services
from api.simulations import NotFound, day_window
from common.schema import EARLIEST, LATEST

router = APIRouter(prefix="/api/meters", tags=["live results"])

MeterIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", description="meter id")]
DatePath = Annotated[dt.date, Path(description="local day in the site's timezone, YYYY-MM-DD")]


def check_day(day: dt.date) -> dt.date:
    """``day`` if, in some timezone, it holds instants the wire contract allows; :class:`NotFound` otherwise.

    The edge days themselves are served (readings at ``EARLIEST`` and ``LATEST`` are valid), and so is
    the local day either side of them, which holds those instants west or east of UTC (a simulation
    request needs whole days inside the range: :func:`api.schemas.day_problem`).
    """
    if not EARLIEST.date() - dt.timedelta(days=1) <= day <= LATEST.date() + dt.timedelta(days=1):
        raise NotFound(f"no results for {day}: readings lie between {EARLIEST:%Y-%m-%d %H:%M} and "
                       f"{LATEST:%Y-%m-%d %H:%M} UTC")
    return day


@router.get("", response_model=list[MeterOut])
def list_meters(services: Services = Depends(get_services)) -> list[MeterOut]:  # noqa: B008
    """Every meter with stored intervals, with the span they cover."""
    rows = services.db.run(queries.meters)
    return [MeterOut(meter_id=m, intervals=n, first_interval_start=first, last_interval_start=last)
            for m, n, first, last in rows]


@router.get("/{meter_id}/days/{date}", response_model=MeterDay, responses={404: {"model": Problem}})
def meter_day(meter_id: MeterIdPath, date: DatePath,
              services: Services = Depends(get_services)) -> MeterDay:  # noqa: B008
    """The meter's interval means [kW] of a local day, in time order (from the PV simulator's live feed)."""
    start, end = day_window(check_day(date), services.settings.tz)

    def fetch(session: Session) -> list[IntervalOut]:
        if not queries.meter_exists(session, meter_id):
            raise NotFound(f"unknown meter '{meter_id}': no live results stored for it")
        rows = queries.intervals_between(session, start, end, meter_id)
        return [IntervalOut.model_validate(row, from_attributes=True) for row in rows]

    intervals = services.db.run(fetch)
    if not intervals:
        raise NotFound(f"no intervals of '{meter_id}' stored for {date} ({services.settings.timezone})")
    return MeterDay(meter_id=meter_id, date=date, timezone=services.settings.timezone, intervals=intervals)
