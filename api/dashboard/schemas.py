"""Response shapes of the dashboard's own endpoint (Pydantic)."""

from __future__ import annotations

import datetime as dt

from pydantic import AwareDatetime, BaseModel

from api.schemas import GridResultOut, IntervalOut, RunOut


class DashboardDay(BaseModel):
    """A meter's local day as the dashboard shows it: intervals [kW], the feeder's grid results, completeness.

    ``day_start`` / ``day_end``: the UTC instants of the day's local midnights (23, 24 or 25 h apart);
    ``complete``: a completed run of the meter covers the whole day (every reading is on
    disk, and the day's ``summary.json`` is written) and the stored intervals hold all its
    readings; ``readings_expected``: the readings that run announced for the day (None: no
    completed run covers it), ``readings_stored``: the readings the stored intervals hold (fewer
    than expected: results the live feed lacks, the day is incomplete); ``runs``: completed
    runs overlapping it.
    """

    meter_id: str
    date: dt.date
    timezone: str
    feeder: str
    day_start: AwareDatetime
    day_end: AwareDatetime
    complete: bool
    readings_expected: int | None
    readings_stored: int
    runs: list[RunOut]
    intervals: list[IntervalOut]
    grid: list[GridResultOut]
