"""Pinned bytes: day files, summaries and load values stay byte-identical while the code moves.

The sha256 of each file below was taken on main before the physics moved into ``models/``
(issue #17). A change of any of them is a change of behaviour: only a deliberate one may
update a pin (say so in the commit).
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

import models.plan
from batch.tasks import BatchJob, write_day
from models.plan import DayStream, RunPlan
from models.pv.parameters import PvModelParameters
from pv_simulator.writer import CsvStore

BERLIN = ZoneInfo("Europe/Berlin")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _files(root: Path) -> dict[str, str]:
    """Relative path -> sha256 (16 hex digits) of every day file and summary under ``root``."""
    return {str(p.relative_to(root)): _digest(p.read_bytes()) for p in sorted(root.rglob("*")) if p.is_file()
            and p.suffix in (".csv", ".json")}


def _plan(model: str, first_day: date, days: int, meters: int = 2, interval_s: int = 60) -> RunPlan:
    return RunPlan(tuple(f"meter-{n}" for n in range(1, meters + 1)), first_day, days, BERLIN, interval_s, 7, model)


def _batch(tmp_path: Path, plan: RunPlan, pv_model: str) -> dict[str, str]:
    marker = tmp_path / "marker"
    marker.touch()
    parameters = PvModelParameters(pv_model=pv_model)  # type: ignore[call-arg]
    job = BatchJob(plan, tmp_path, parameters.pv_profile(), marker,
                   dc_capacity_kw=parameters.yield_capacity_kw())
    for index in range(plan.days):
        write_day(job, index)
    return _files(tmp_path)


@pytest.mark.parametrize(("model", "pv_model", "first_day", "days"), [
    ("random-walk", "reference", date(2026, 3, 28), 3),
    ("uniform", "clearsky", date(2026, 10, 25), 1),  # fall-back day (25 h)
    ("gaussian", "reference", date(2026, 6, 21), 1),
    ("profile", "clearsky", date(2026, 12, 24), 1),
])
def test_batch_day_files_keep_their_pinned_bytes(tmp_path: Path, model: str, pv_model: str, first_day: date,
                                                 days: int) -> None:
    found = _batch(tmp_path, _plan(model, first_day, days), pv_model)
    assert found == PINS[(model, pv_model, first_day, days)]


def test_the_store_writes_the_pinned_bytes_for_late_and_subsecond_readings(tmp_path: Path) -> None:
    # Row by row (a few rows per write) and vectorised (many), with a late reading, an instant in
    # milliseconds and a sort once complete: the broker pipeline's paths through the writer.
    readings = _plan("random-walk", date(2026, 6, 21), 1, meters=1, interval_s=30).day(0)
    pv_profile = PvModelParameters(pv_model="clearsky").pv_profile()  # type: ignore[call-arg]
    store = CsvStore(tmp_path, BERLIN, pv_profile)
    late = (5, 6, 7)
    for i, (second, power_w) in enumerate(zip(readings.timestamps_s.tolist(), readings.power_w[0].tolist(),
                                              strict=True)):
        if i not in late:
            store.add("meter-1", second * 1000, power_w)
        if i < 40 or i % 500 == 0:
            store.write()
    store.add("meter-1", int(readings.timestamps_s[10]) * 1000 + 250, 1234.5)
    for i in late:
        store.add("meter-1", int(readings.timestamps_s[i]) * 1000, float(readings.power_w[0][i]))
    store.write()
    (day_file,) = store.days_of("meter-1", int(readings.timestamps_s[0]), int(readings.timestamps_s[0]))
    unsorted = _digest(day_file.path.read_bytes())
    summary = day_file.totals.summary("meter-1", "2026-06-21", 30)
    day_file.sort()
    found = (unsorted, _digest(day_file.path.read_bytes()), _digest(repr(summary).encode()))
    assert found == STORE_PIN


@pytest.mark.parametrize("model", ["random-walk", "uniform", "gaussian", "profile"])
def test_load_values_keep_their_pinned_bytes_whole_and_in_chunks(model: str, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = _plan(model, date(2026, 3, 29), 1, meters=3, interval_s=10)
    whole = plan.day(0).power_w
    monkeypatch.setattr(models.plan, "CHUNK_VALUES", 3000)  # chunks of 1,000 readings, as at many meters
    stream = DayStream(plan, 0)
    chunked = np.empty_like(whole)
    for i in range(whole.shape[1]):
        at = stream.seek(i)
        chunked[:, i] = [stream.power_list[m][at] for m in range(3)]
    assert stream.chunk_index > 2
    assert np.array_equal(chunked, whole)
    assert _digest(whole.tobytes()) == LOAD_PINS[model]


STORE_PIN = ("e67519b3a7f46e48", "850baa32a3826b7e", "4b07dfa08af1fb62")  # unsorted file, sorted file, summary
PINS: dict[tuple[str, str, date, int], dict[str, str]] = {
    ("random-walk", "reference", date(2026, 3, 28), 3): {
        "meter-1/2026-03-28.csv": "802d2808b67e8b38",
        "meter-1/2026-03-28.summary.json": "a30d3ad9c8abaf33",
        "meter-1/2026-03-29.csv": "0faee5fa7461c52f",
        "meter-1/2026-03-29.summary.json": "9f8c595c1d9c2185",
        "meter-1/2026-03-30.csv": "822e23459af5131b",
        "meter-1/2026-03-30.summary.json": "092254bb6a7cfe97",
        "meter-2/2026-03-28.csv": "80362786862dce10",
        "meter-2/2026-03-28.summary.json": "78113f77a26f4729",
        "meter-2/2026-03-29.csv": "cbdb4370f518d7cd",
        "meter-2/2026-03-29.summary.json": "e24743a8c08cc4ce",
        "meter-2/2026-03-30.csv": "814e9781f947121b",
        "meter-2/2026-03-30.summary.json": "19aab2af55281f18",
    },
    ("uniform", "clearsky", date(2026, 10, 25), 1): {
        "meter-1/2026-10-25.csv": "225f9bc91746a89f",
        "meter-1/2026-10-25.summary.json": "8cb8217fdf5bff5a",
        "meter-2/2026-10-25.csv": "3dbadeeecf60e691",
        "meter-2/2026-10-25.summary.json": "549b940205dee3b4",
    },
    ("gaussian", "reference", date(2026, 6, 21), 1): {
        "meter-1/2026-06-21.csv": "bce0e90571e1570e",
        "meter-1/2026-06-21.summary.json": "80fb3b82fcf6ec39",
        "meter-2/2026-06-21.csv": "938f980e5c9a2413",
        "meter-2/2026-06-21.summary.json": "e43061448cb793a4",
    },
    ("profile", "clearsky", date(2026, 12, 24), 1): {
        "meter-1/2026-12-24.csv": "d14651e035d8a93d",
        "meter-1/2026-12-24.summary.json": "fd9aef8a6bd73cd2",
        "meter-2/2026-12-24.csv": "b827f3ee60e24222",
        "meter-2/2026-12-24.summary.json": "e4c425b0bb2c6709",
    },
}
LOAD_PINS: dict[str, str] = {
    "random-walk": "181ee4c462f6f923",
    "uniform": "a11fc1aba3bed193",
    "gaussian": "df5652a32899a2aa",
    "profile": "aac4583dcd454c09",
}
