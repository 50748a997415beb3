"""The dashboard's routes in-process: the page, its files (Plotly's vendored basic bundle), the day endpoint."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.dashboard.routes import PLOTLY_BUNDLE
from api.dashboard.schemas import DashboardDay
from api.db import queries
from api.db.models import RunRecord
from api.live.consumer import run_row
from api.live.grid import grid_row
from api.schemas import GridResultOut, IntervalOut, RunOut
from api.services import Services
from common.schema import RunComplete
from tests.api.helpers import day_of_intervals, interval, store_intervals

MIDNIGHT = datetime(2026, 6, 20, 22, 0, tzinfo=UTC)  # 2026-06-21 00:00 in Europe/Berlin


def test_page_carries_the_site_timezone_and_feeder_and_loads_only_local_files(client: TestClient) -> None:
    answer = client.get("/")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    config = re.search(r'<script id="pvsim-config" type="application/json">(.*?)</script>', answer.text)
    assert config is not None and json.loads(config.group(1)) == {"timezone": "Europe/Berlin", "feeder": "seed"}
    sources = re.findall(r'(?:src|href)="([^"]+)"', answer.text)
    assert sources and all(s.startswith("/dashboard/") or s == "data:," for s in sources), sources


# npm plotly.js-basic-dist-min@4.1.1, package/plotly-basic.min.js (api/dashboard/static/vendor/README.md)
PLOTLY_BASIC_SHA256 = "99784e3abfb07b142a15e521a439e6d9addceadb3f79553fd24c72774f0649ba"


def test_plotly_is_the_vendored_basic_bundle_unchanged(client: TestClient) -> None:
    answer = client.get("/dashboard/plotly-basic.min.js")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/javascript")
    assert answer.content == PLOTLY_BUNDLE.read_bytes()
    assert b"plotly.js (basic - minified) v4.1.1" in answer.content[:200]
    assert hashlib.sha256(answer.content).hexdigest() == PLOTLY_BASIC_SHA256
    assert "max-age" in answer.headers["cache-control"]
    assert client.get("/dashboard/plotly.min.js").status_code == 404


def test_only_the_pages_own_files_are_served(client: TestClient) -> None:
    assert client.get("/dashboard/app.js").status_code == 200
    assert client.get("/dashboard/style.css").headers["content-type"].startswith("text/css")
    for name in ("index.html", "routes.py", "__init__.py"):
        answer = client.get(f"/dashboard/{name}")
        assert answer.status_code == 404 and "no dashboard file" in answer.json()["detail"]
    assert client.get("/dashboard/..%2Froutes.py").status_code == 404


def test_a_day_without_results_is_empty_not_missing(client: TestClient) -> None:
    answer = client.get("/api/dashboard/meters/meter-1/days/2026-06-21")
    assert answer.status_code == 200
    day = answer.json()
    assert (day["intervals"], day["grid"], day["runs"], day["complete"]) == ([], [], [], False)
    assert (day["day_start"], day["day_end"]) == ("2026-06-20T22:00:00Z", "2026-06-21T22:00:00Z")


def test_a_day_lists_its_intervals_and_is_complete_once_a_run_covers_it(client: TestClient) -> None:
    store_intervals(client, day_of_intervals("meter-1", MIDNIGHT, 1440))
    store_intervals(client, day_of_intervals("meter-2", MIDNIGHT, 5))
    day = client.get("/api/dashboard/meters/meter-1/days/2026-06-21").json()
    assert len(day["intervals"]) == 1440 and day["intervals"][0]["interval_start"] == "2026-06-20T22:00:00Z"
    assert day["intervals"][0]["import_power_kw"] == 0.5 and day["complete"] is False

    services: Services = client.app.state.services  # type: ignore[attr-defined]

    def notice(run_id: str, last: str, readings: int) -> RunComplete:
        return RunComplete.model_validate({
            "schema": 1, "meter_id": "meter-1", "run_id": run_id, "meters": ["meter-1"], "readings": readings,
            "interval_s": 1, "first_timestamp": "2026-06-20T22:00:00Z", "last_timestamp": last}, strict=False)

    # a run that ends before the day does is not enough (its span must reach the next midnight)
    partial = notice("partial", "2026-06-21T12:00:00Z", 50_401)
    services.db.run(lambda s: queries.upsert_run(s, run_row(partial, datetime.now(UTC))))
    day = client.get("/api/dashboard/meters/meter-1/days/2026-06-21").json()
    assert [run["run_id"] for run in day["runs"]] == ["partial"] and day["complete"] is False

    whole = notice("whole", "2026-06-21T21:59:59Z", 86_400)
    services.db.run(lambda s: queries.upsert_run(s, run_row(whole, datetime.now(UTC))))
    day = client.get("/api/dashboard/meters/meter-1/days/2026-06-21").json()
    assert day["complete"] is True and len(day["runs"]) == 2
    # the day before is untouched by either run
    assert client.get("/api/dashboard/meters/meter-1/days/2026-06-20").json()["complete"] is False


def test_a_day_covered_by_a_run_whose_intervals_lack_readings_is_incomplete_not_complete(
        client: TestClient) -> None:
    lost = range(298, 317)  # 04:58-05:16 local: 19 intervals that never reached the service
    store_intervals(client, [i for k, i in enumerate(day_of_intervals("meter-1", MIDNIGHT, 1440)) if k not in lost])
    whole = RunComplete.model_validate({
        "schema": 1, "meter_id": "meter-1", "run_id": "whole", "meters": ["meter-1"], "readings": 2 * 86_400,
        "interval_s": 1, "first_timestamp": "2026-06-20T22:00:00Z", "last_timestamp": "2026-06-22T21:59:59Z"},
        strict=False)
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    services.db.run(lambda s: queries.upsert_run(s, run_row(whole, datetime.now(UTC))))
    day = client.get("/api/dashboard/meters/meter-1/days/2026-06-21").json()
    assert (day["complete"], day["readings_expected"], day["readings_stored"]) == (False, 86_400, 86_400 - 19 * 60)
    store_intervals(client, [i for k, i in enumerate(day_of_intervals("meter-1", MIDNIGHT, 1440)) if k in lost])
    day = client.get("/api/dashboard/meters/meter-1/days/2026-06-21").json()
    assert (day["complete"], day["readings_stored"]) == (True, 86_400)


def test_bad_meter_or_day_is_a_clear_4xx(client: TestClient) -> None:
    assert client.get("/api/dashboard/meters/bad%20id/days/2026-06-21").status_code == 422
    assert client.get("/api/dashboard/meters/meter-1/days/2026-13-01").status_code == 422
    assert client.get("/api/dashboard/meters/meter-1/days/1969-12-30").status_code == 404  # before any valid reading


def test_the_day_answer_is_the_documented_model_exactly(client: TestClient) -> None:
    """The endpoint encodes plain rows itself; what it sends must be :class:`DashboardDay` of the ORM rows."""
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    store_intervals(client, day_of_intervals("meter-1", MIDNIGHT, 30))
    store_intervals(client, [interval("meter-1", MIDNIGHT + timedelta(minutes=30, seconds=0.25), meter_kw=0.1,
                                      pv_kw=3.3)])
    now = datetime.now(UTC)
    for k in range(3):
        state = {"grid_p_kw": 1.5 - k, "grid_q_kvar": 0.25, "vm_min_pu": 0.98, "vm_max_pu": 1.0 + k / 3,
                 "trafo_loading_percent": 12.5, "line_loading_max_percent": 7.0, "losses_kw": 0.0125,
                 "buildings": {"meter-1": {"vm_pu": 0.99, "p_kw": 1.0, "q_kvar": 0.33},
                               "meter-2": {"vm_pu": 1.01, "p_kw": -2.0, "q_kvar": 0.0}}}
        row = grid_row("seed", MIDNIGHT + timedelta(minutes=k), 60, 2, state, now)
        services.db.run(lambda s, row=row: queries.upsert_grid_result(s, row))
    whole = RunComplete.model_validate({
        "schema": 1, "meter_id": "meter-1", "run_id": "r", "meters": ["meter-1", "meter-2"], "readings": 86_400,
        "interval_s": 1, "first_timestamp": "2026-06-20T22:00:00Z", "last_timestamp": "2026-06-21T21:59:59Z"},
        strict=False)
    services.db.run(lambda s: queries.upsert_run(s, run_row(whole, now)))

    answer = client.get("/api/dashboard/meters/meter-1/days/2026-06-21")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    start, end = MIDNIGHT, MIDNIGHT + timedelta(days=1)

    def expected(session: Session) -> dict[str, Any]:
        runs = [RunOut.model_validate(r, from_attributes=True) for r in session.scalars(select(RunRecord))]
        return DashboardDay(
            meter_id="meter-1", date=date(2026, 6, 21), timezone="Europe/Berlin", feeder="seed", day_start=start,
            day_end=end, complete=False, readings_expected=86_400, readings_stored=31 * 60, runs=runs,
            intervals=[IntervalOut.model_validate(r, from_attributes=True)
                       for r in queries.intervals_between(session, start, end, "meter-1")],
            grid=[GridResultOut.model_validate(r, from_attributes=True)
                  for r in queries.grid_results_between(session, "seed", start, end)],
        ).model_dump(mode="json")

    want = services.db.run(expected)
    # 31 intervals of 60 readings stored of the 86,400 the covering run announced: incomplete
    assert len(want["intervals"]) == 31 and len(want["grid"]) == 3 and want["complete"] is False
    assert answer.json() == want
    assert answer.json()["intervals"][-1]["interval_start"] == "2026-06-20T22:30:00.250000Z"
