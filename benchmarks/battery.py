"""Battery dispatch: the CPU a year of readings at 1 s costs (31.5 M readings), per strategy.

A synthetic year (a half-sine of PV from 06:00 to 18:00 with random clouds, a noisy load) goes through
:func:`models.battery.dispatch` in two ways: one call over the whole year, and one call per day carrying
the state of charge across midnight (as a run writes day files). The compile of each strategy is
timed apart (each process pays it once). Prints the CPU and
wall seconds per simulated year, best of ``--repeats``. With ``--sweep`` it times ``python -m batch sweep`` too
(default: 4 PV sizes x 5 capacities over a year at 60 s, clear-sky PV), wall and CPU of the command::

    python -m benchmarks.battery
    python -m benchmarks.battery --days 30 --repeats 5 --sweep
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

from models.battery import STRATEGIES, BatterySpec, dispatch

SECONDS_PER_DAY = 86_400


def _year(days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2026)
    hour = np.tile(np.arange(SECONDS_PER_DAY) / 3600, days)
    clouds = np.repeat(rng.uniform(0.2, 1.0, days * 96), 900)  # one cloud factor per quarter hour
    pv_kw = np.clip(5.0 * np.sin(np.pi * (hour - 6) / 12), 0, None) * clouds
    meter_kw = 0.25 + rng.exponential(0.3, hour.size)
    return meter_kw, pv_kw, hour


def _timed(call) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    """Parse the options, time each strategy, print one line per case."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365, help="days of readings at 1 s (default 365)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per case; the best is shown")
    parser.add_argument("--sweep", action="store_true", help="also time python -m batch sweep (a year at 60 s)")
    parser.add_argument("--pv-model", default="clearsky", help="PV model of the sweep (default clearsky)")
    args = parser.parse_args()
    meter_kw, pv_kw, hour = _year(args.days)
    scale = 365 / args.days
    print(f"{meter_kw.size:,} readings at 1 s ({args.days} days); figures per simulated year (365 days)")
    print(f"{'strategy':<18} {'case':<16} {'CPU s/year':>10} {'wall s/year':>11} {'compile s':>9}")
    for name in STRATEGIES:
        spec = BatterySpec(10.0, 5.0, 0.95, name, pv_kwp=5.0)
        compile_s, _ = _timed(lambda spec=spec: dispatch(meter_kw[:10], pv_kw[:10], 1.0, spec, 0.0, hour[:10]))

        def whole(spec=spec) -> None:
            dispatch(meter_kw, pv_kw, 1.0, spec, 0.0, hour)

        def by_day(spec=spec) -> None:
            soc_kwh = 0.0
            for start in range(0, meter_kw.size, SECONDS_PER_DAY):
                day = slice(start, start + SECONDS_PER_DAY)
                soc_kwh = dispatch(meter_kw[day], pv_kw[day], 1.0, spec, soc_kwh, hour[day]).soc_kwh

        for case, call in (("one call", whole), ("day by day", by_day)):
            cpu_s, wall_s = min(_timed(call) for _ in range(args.repeats))
            print(f"{name:<18} {case:<16} {cpu_s * scale:>10.3f} {wall_s * scale:>11.3f} {compile_s:>9.2f}",
                  flush=True)

    if args.sweep:
        _time_sweep(args.pv_model)


def _time_sweep(pv_model: str) -> None:
    with tempfile.TemporaryDirectory() as output:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "batch", "sweep", "--output-dir", output, "--date", "2025-01-01",
                        "--pv-model", pv_model, "--log-level", "WARNING"], check=True, stdout=subprocess.DEVNULL)
        wall_s = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    print(f"sweep 4 PV x 5 battery sizes, a year at 60 s, {pv_model} PV: {wall_s:.1f} s wall, {cpu_s:.1f} s CPU")


if __name__ == "__main__":
    main()
