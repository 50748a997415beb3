"""Seconds per day of the weather PV model (TRY2010) against the clear-sky model, one day at 1 s each.

Datenbasis: Deutscher Wetterdienst. Both models run on the same days of one year, in one
process; the weather model's hourly chain for the year is computed once (its cost is
printed apart and spread over the days), as the PV simulator and batch mode do.

    python -m benchmarks.weather --days 60 --region 4
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from common.clock import LocalDay
from models.pv.clearsky import clearsky_day_kw
from models.pv.site import PvSite
from models.pv.try_data import load_try
from models.pv.weather import hourly_year_kw, weather_day_kw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=60, help="days to time, spread over 2026")
    parser.add_argument("--region", type=int, default=4, help="TRY region 1..15")
    args = parser.parse_args()
    site, tz = PvSite(surface_tilt=35.0), ZoneInfo("Europe/Berlin")
    step = max(1, 365 // args.days)
    days = [LocalDay(date(2026, 1, 1) + timedelta(days=n * step), tz) for n in range(args.days)]
    year = load_try(args.region)
    clearsky_day_kw(days[0], site)  # warm pvlib's and numpy's first-call costs for both
    started = time.perf_counter()
    hourly_year_kw(year, 2026, site)
    year_s = time.perf_counter() - started
    timings = {}
    for name, model in (("clearsky", lambda day: clearsky_day_kw(day, site)),
                        ("weather", lambda day: weather_day_kw(year, day, site))):
        started = time.perf_counter()
        for day in days:
            model(day)
        timings[name] = (time.perf_counter() - started) / len(days)
    weather_per_day = timings["weather"] + year_s / 365
    print(f"days timed: {len(days)} (region {args.region}, 86,400 values each)")
    print(f"clearsky: {timings['clearsky'] * 1000:.1f} ms/day")
    print(f"weather:  {timings['weather'] * 1000:.1f} ms/day + hourly year {year_s:.2f} s once "
          f"({weather_per_day * 1000:.1f} ms/day over a year)")
    print(f"ratio weather/clearsky: {weather_per_day / timings['clearsky']:.2f}x")


if __name__ == "__main__":
    main()
