"""The dashboard page at ``/``, its static files, and the day it shows (``/api/dashboard``).

Everything the page loads comes from this service: its own HTML, JavaScript and CSS in
``static/``, and Plotly's *basic* bundle (scatter, bar and pie traces: all the page draws),
vendored in ``static/vendor/`` from npm's ``plotly.js-basic-dist-min`` (no CDN; the page works
without internet; provenance and checksum in ``static/vendor/README.md``). Live data comes from ``/ws/live``; the day so
far from ``/api/dashboard/meters/{meter_id}/days/{date}`` (one answer, 200 even before the
day's first interval, so the page never logs a failed request).
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.dashboard.schemas import DashboardDay
from api.db import queries
from api.db.models import RunRecord
from api.rest.meters import DatePath, MeterIdPath, check_day
from api.schemas import BuildingState, GridResultOut, IntervalOut, RunOut
from api.services import Services, get_services
from api.simulations import NotFound, day_window

router = APIRouter(tags=["dashboard"])

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = {"app.js": "text/javascript", "style.css": "text/css"}
"""The page's own files, served by name (nothing else under ``static/`` is reachable)."""
CACHE = "public, max-age=3600"


PLOTLY_BUNDLE = STATIC / "vendor" / "plotly-basic.min.js"
"""Plotly.js 4.1.1, basic bundle (1.2 MB; the full ``plotly.min.js`` of the ``plotly`` Python
package is 4.8 MB and took about four times as long to run before the first chart). Source:
npm ``plotly.js-basic-dist-min@4.1.1``, MIT licence (``static/vendor/plotly-LICENSE``)."""


@cache
def _page_template() -> str:
    return (STATIC / "index.html").read_text(encoding="utf-8")


def render_page(timezone: str, feeder: str) -> str:
    """The page's HTML with the site's ``timezone`` and ``feeder`` in its JSON config element."""
    # Inside <script> nothing is unescaped: keep "</script>" out by escaping "<" the JSON way.
    config = json.dumps({"timezone": timezone, "feeder": feeder}).replace("<", "\\u003c")
    return _page_template().replace("{{config}}", config)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def page(services: Services = Depends(get_services)) -> HTMLResponse:  # noqa: B008
    """The dashboard."""
    settings = services.settings
    return HTMLResponse(render_page(settings.timezone, settings.feeder), headers={"Cache-Control": "no-cache"})


@router.get("/dashboard/plotly-basic.min.js", include_in_schema=False)
def plotly_js() -> FileResponse:
    """Plotly's basic bundle, vendored (cached by the browser; ETag from the file)."""
    return FileResponse(PLOTLY_BUNDLE, media_type="text/javascript", headers={"Cache-Control": CACHE})


@router.get("/dashboard/{name}", include_in_schema=False)
def asset(name: str) -> FileResponse:
    """One of the page's own files; 404 for any other name."""
    if name not in ASSETS:
        raise NotFound(f"no dashboard file '{name}'")
    return FileResponse(STATIC / name, media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})


INTERVAL_FIELDS = tuple(IntervalOut.model_fields)
GRID_FIELDS = tuple(GridResultOut.model_fields)
BUILDING_FIELDS = tuple(BuildingState.model_fields)


@router.get("/api/dashboard/meters/{meter_id}/days/{date}", response_model=DashboardDay)
def dashboard_day(meter_id: MeterIdPath, date: DatePath,
                  services: Services = Depends(get_services)) -> Response:  # noqa: B008
    """Everything the page shows of ``meter_id``'s local day ``date`` so far, in one answer.

    The meter's interval means [kW], the feeder's live grid results and whether the day is
    complete on disk (a completed run of the meter, from the PV simulator's run-complete
    notices, covers the whole day). Empty lists, not 404, for a day without results yet:
    the page asks for a day before its first interval arrives.

    The page waits for this answer before its first figures, so the day's up to 1,440
    intervals and grid results are read as plain rows and encoded once with orjson, in the
    shape of :class:`DashboardDay` (``tests/api/test_dashboard_routes.py`` holds the two
    equal), instead of through ORM objects and two Pydantic passes: about three times faster.
    """
    settings = services.settings
    start, end = day_window(check_day(date), settings.tz)

    def fetch(session: Session) -> dict[str, Any]:
        intervals = queries.interval_values_between(session, start, end, INTERVAL_FIELDS, meter_id)
        grid = queries.grid_result_values_between(session, settings.feeder, start, end, GRID_FIELDS)
        for row in grid:
            row["buildings"] = {name: {field: state[field] for field in BUILDING_FIELDS}
                                for name, state in row["buildings"].items()}
        statement = (select(RunRecord)
                     .where(RunRecord.meter_id == meter_id, RunRecord.first_timestamp < end,
                            RunRecord.last_timestamp >= start)
                     .order_by(RunRecord.first_timestamp))
        runs = [RunOut.model_validate(row, from_attributes=True) for row in session.scalars(statement)]
        expected = readings_expected(runs, start, end)
        stored = sum(int(row["readings"]) for row in intervals)
        return {"meter_id": meter_id, "date": date, "timezone": settings.timezone, "feeder": settings.feeder,
                "day_start": start, "day_end": end, "complete": expected is not None and stored >= expected,
                "readings_expected": expected, "readings_stored": stored,
                "runs": [run.model_dump() for run in runs], "intervals": intervals, "grid": grid}

    day = services.db.run(fetch)
    return Response(orjson.dumps(day, option=orjson.OPT_UTC_Z), media_type="application/json")


def readings_expected(runs: list[RunOut], start: dt.datetime, end: dt.datetime) -> int | None:
    """Readings in ``[start, end)`` announced by a run of ``runs`` that covers it whole (its last reading
    stands for ``interval_s`` more), the most of any; None if none covers it (the day is not over yet).

    The day is complete when the stored intervals hold as many readings: a covering run's
    run-complete notice says every reading is on disk, and a shortfall is results the live
    feed never delivered (the dashboard then says "incomplete" rather than "complete").
    """
    counts = [readings_between(run, start, end) for run in runs
              if run.first_timestamp <= start and run.last_timestamp + dt.timedelta(seconds=run.interval_s) >= end]
    return max(counts) if counts else None


def readings_between(run: RunOut, start: dt.datetime, end: dt.datetime) -> int:
    """How many readings of a run (``first_timestamp`` + k ``interval_s``, k < ``readings``) lie in [start, end)."""
    step_us = run.interval_s * 1_000_000
    first = -(-((start - run.first_timestamp) // dt.timedelta(microseconds=1)) // step_us)
    last = ((end - run.first_timestamp) // dt.timedelta(microseconds=1) - 1) // step_us
    return max(0, min(last, run.readings - 1) - max(first, 0) + 1)
