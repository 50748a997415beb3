"""How much the time resolution of the data changes what a battery seems to do: one meter at 1 s, averaged.

One meter of a load model (default ``random-walk``, which varies from second to second) and the PV model of
the settings run over a period at 1 s; the same readings are averaged over 60 s, 15 min and 1 h and the battery
dispatched on each. Prints self-sufficiency and self-consumption with PV alone and with the battery, and the
battery's cycles, per resolution: hourly data hide the short peaks the battery cannot follow (its power limit)
and the short surpluses and deficits that cancel within an hour::

    python -m benchmarks.battery_resolution --days 365
    python -m benchmarks.battery_resolution --days 30 --model profile --pv-model clearsky
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from batch.sweep import SweepSettings, period_of_plan
from models.battery import BatterySpec, dispatch
from models.battery_summary import battery_balance
from models.plan import RunPlan

RESOLUTIONS_S = (1, 60, 900, 3600)


def main() -> None:
    """Parse the options, run the period at 1 s, print one line per resolution."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365, help="days from 2025-01-01 (default 365)")
    parser.add_argument("--model", default="random-walk", help="load model (default random-walk)")
    parser.add_argument("--pv-model", default="weather", help="PV model (default weather, Potsdam)")
    parser.add_argument("--pv-kwp", type=float, default=5.0, help="PV size [kWp] (default 5)")
    parser.add_argument("--battery-kwh", type=float, default=5.0, help="battery capacity [kWh] (default 5)")
    args = parser.parse_args()
    settings = SweepSettings(pv_model=args.pv_model, latitude_deg=52.39, longitude_deg=13.06)
    plan = RunPlan(("meter-1",), dt.date(2025, 1, 1), args.days, settings.tz, 1, 0, args.model)
    started = time.perf_counter()
    period = period_of_plan(plan, settings.pv_profile(), settings.pv_kwp())
    print(f"{period.meter_kw.size:,} readings at 1 s in {time.perf_counter() - started:.0f} s; "
          f"{args.model} load, {args.pv_model} PV {args.pv_kwp:g} kWp, battery {args.battery_kwh:g} kWh")
    print(f"{'step [s]':>8} {'consumed':>9} {'PV alone: SS %':>14} {'SC %':>6} {'battery: SS %':>13} {'SC %':>6} "
          f"{'cycles':>7}")
    spec = BatterySpec(args.battery_kwh)
    for step_s in RESOLUTIONS_S:
        meter = period.meter_kw.reshape(-1, step_s).mean(axis=1)
        pv = (period.pv_per_kwp_kw * args.pv_kwp).reshape(-1, step_s).mean(axis=1)
        hour = period.local_hour.reshape(-1, step_s)[:, 0]
        result = dispatch(meter, pv, float(step_s), spec, 0.0, hour)
        b = battery_balance(meter, pv, float(step_s), result, args.battery_kwh)
        print(f"{step_s:>8} {b.consumed_kwh:>9.0f} {b.pv_only_self_sufficiency_percent or 0:>14.1f} "
              f"{b.pv_only_self_consumption_percent or 0:>6.1f} {b.self_sufficiency_percent or 0:>13.1f} "
              f"{b.self_consumption_percent or 0:>6.1f} {b.equivalent_full_cycles:>7.1f}", flush=True)


if __name__ == "__main__":
    main()
