"""The PV simulator's writing path with and without a home battery: CPU per reading, and the replay after a restart.

Readings go through :class:`~pv_simulator.writer.CsvStore` as the service hands them over (``add`` per reading, a
write every ``--flush-rows``), without a broker; then a new store, as after a SIGKILL, rebuilds the battery's
state of a meter from its day file (:mod:`pv_simulator.battery_state`).

    python -m benchmarks.battery_store --meters 1 --seconds 86400
    python -m benchmarks.battery_store --meters 200 --seconds 1800
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from models.battery import BatterySpec
from models.chain import ModelChain
from models.plan import RunPlan
from models.pv.reference import ReferencePv
from pv_simulator.battery_state import BatteryStates
from pv_simulator.writer import CsvStore

TZ = ZoneInfo("Europe/Berlin")
DAY = date(2026, 6, 21)


def _store(output: Path, battery: bool) -> CsvStore:
    chain = ModelChain(ReferencePv())
    states = BatteryStates(BatterySpec(10.0), 1, 0.0, chain, TZ) if battery else None
    return CsvStore(output, TZ, chain, battery=states)


def write_run(output: Path, meters: int, seconds: int, flush_rows: int, battery: bool) -> float:
    """CPU seconds to add and write ``seconds`` readings at 1 s of ``meters`` meters (from 10:00 local)."""
    plan = RunPlan(tuple(f"meter-{n}" for n in range(1, meters + 1)), DAY, 1, TZ, 1, 0, "random-walk")
    day = plan.day(0)
    first = 10 * 3600 if seconds < 86_400 else 0
    stamps = day.timestamps_s[first:first + seconds].tolist()
    powers = day.power_w[:, first:first + seconds].tolist()
    store = _store(output, battery)
    ids = plan.meter_ids
    started, queued = time.process_time(), 0
    for k, second in enumerate(stamps):
        ms = second * 1000
        for m, meter_id in enumerate(ids):
            store.add(meter_id, ms, powers[m][k])
        queued += meters
        if queued >= flush_rows:
            store.write()
            queued = 0
    store.write()
    return time.process_time() - started


def replay(output: Path) -> tuple[float, float]:
    """(wall seconds, state of charge [kWh]) to rebuild meter-1's state from its day file, as after a restart."""
    store = _store(output, battery=True)
    assert store.battery is not None
    day = store.local_day(DAY)
    started = time.perf_counter()
    _last_ms, soc_kwh = store.battery._state("meter-1", day)
    return time.perf_counter() - started, soc_kwh


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=86_400, help="readings per meter, at 1 s")
    parser.add_argument("--flush-rows", type=int, default=2000, help="readings between two writes")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    readings = args.meters * args.seconds
    for battery in (False, True):
        times = []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as folder:
                times.append(write_run(Path(folder), args.meters, args.seconds, args.flush_rows, battery))
                if battery and args.meters == 1 and args.seconds == 86_400:
                    replays = [replay(Path(folder)) for _ in range(args.repeat)]
        best = min(times)
        print(f"{'with' if battery else 'without'} a battery: {readings:,} readings ({args.meters} meter(s) x "
              f"{args.seconds} s) in {best:.2f} s CPU = {1e6 * best / readings:.1f} us per reading "
              f"(best of {args.repeat}; all {', '.join(f'{t:.2f}' for t in times)} s)")
    if args.meters == 1 and args.seconds == 86_400:
        walls = np.array([wall for wall, _ in replays])
        print(f"replay of a day at 1 s after a restart: {1000 * walls.min():.0f} ms "
              f"(median {1000 * np.median(walls):.0f} ms), end state {replays[0][1]:.6f} kWh")


if __name__ == "__main__":
    main()
