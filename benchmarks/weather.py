"""Seconds per day of the weather PV model (TRY2010) against the clear-sky model, one day at 1 s each.

Datenbasis: Deutscher Wetterdienst. Both models run on the same days of one year, in one
process; the weather model's hourly chain for the year is computed once (its cost is
printed apart and spread over the days), as the PV simulator and batch mode do.

    python -m benchmarks.weather --days 60 --region 4 --batch-days 28

Then, with ``--batch-days N``, ``python -m batch`` for N days of one meter at 1 s, once with
``--pv-model reference`` and once with ``weather``, alternating: the issue's target is the
whole run with ``weather`` at most 1.2 x the one with ``reference`` (CPU seconds of the
command and its workers; the wall time a shared machine disturbs more).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from common.clock import LocalDay
from models.pv.clearsky import clearsky_day_kw
from models.pv.site import PvSite
from models.pv.try_data import load_try
from models.pv.weather import hourly_year_kw, weather_day_kw

ROOT = Path(__file__).resolve().parent.parent


def _batch_seconds(pv_model: str, days: int, output: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one ``python -m batch`` run of ``days`` days of one meter at 1 s."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PVSIM_")}
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "batch", "--date", "2026-03-01", "--days", str(days),
                                "--pv-model", pv_model, "--surface-tilt-deg", "35", "--output-dir", str(output),
                                "--workers", "1",
                                "--log-level", "WARNING"], cwd=ROOT, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"batch with {pv_model} failed")
    return time.monotonic() - started, usage.ru_utime + usage.ru_stime


def compare_batch(days: int, repeats: int) -> None:
    """Print the wall and CPU seconds of batch runs with ``reference`` and ``weather``, and their ratio."""
    best: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for repeat in range(repeats):
            for model in ("reference", "weather"):
                wall_s, cpu_s = _batch_seconds(model, days, Path(folder) / f"{model}-{repeat}")
                previous = best.get(model, (float("inf"), float("inf")))
                best[model] = (min(previous[0], wall_s), min(previous[1], cpu_s))
    for model, (wall_s, cpu_s) in best.items():
        print(f"batch {days} days x 1 meter at 1 s, {model:9s}: {wall_s:.1f} s wall, {cpu_s:.1f} s CPU "
              f"(best of {repeats})")
    print(f"batch ratio weather/reference: {best['weather'][1] / best['reference'][1]:.2f}x CPU, "
          f"{best['weather'][0] / best['reference'][0]:.2f}x wall")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=60, help="days to time, spread over 2026")
    parser.add_argument("--region", type=int, default=4, help="TRY region 1..15")
    parser.add_argument("--batch-days", type=int, default=0,
                        help="also time python -m batch over this many days with reference and weather (0: skip)")
    parser.add_argument("--batch-repeats", type=int, default=2, help="batch runs of each model (the best counts)")
    args = parser.parse_args()
    site, tz = PvSite(surface_tilt=35.0), ZoneInfo("Europe/Berlin")
    step = max(1, 365 // args.days)
    days = [LocalDay(date(2026, 1, 1) + timedelta(days=n * step), tz) for n in range(args.days)]
    year = load_try(args.region)
    clearsky_day_kw(days[0], site)  # warm pvlib's and numpy's first-call costs for both
    started = time.perf_counter()
    hourly_year_kw(year, 2026, site)
    year_s = time.perf_counter() - started
    # alternate the two models day by day and take medians: the machine is shared, its load drifts
    clearsky_s, weather_s = [], []
    for day in days:
        started = time.perf_counter()
        clearsky_day_kw(day, site)
        clearsky_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        weather_day_kw(year, day, site)
        weather_s.append(time.perf_counter() - started)
    timings = {"clearsky": statistics.median(clearsky_s), "weather": statistics.median(weather_s)}
    weather_per_day = timings["weather"] + year_s / 365
    print(f"days timed: {len(days)} (region {args.region}, 86,400 values each)")
    print(f"clearsky: {timings['clearsky'] * 1000:.1f} ms/day (median)")
    print(f"weather:  {timings['weather'] * 1000:.1f} ms/day + hourly year {year_s:.2f} s once "
          f"({weather_per_day * 1000:.1f} ms/day over a year)")
    print(f"ratio weather/clearsky: {weather_per_day / timings['clearsky']:.2f}x")
    if args.batch_days:
        compare_batch(args.batch_days, args.batch_repeats)


if __name__ == "__main__":
    main()
