"""Benchmark: a feeder day with the fast path (power-grid-model batch) against a pandapower runpp loop.

In one run, on the same inputs (batch-mode meter CSVs of ``--meters`` buildings at 1 s):
  1. ``python -m grid`` as a process at 60 s and at 1 s: wall time, the read / solve
     split it logs, and its peak RSS (the memory target is < 1 GB at 1 s);
  2. in this process, the fast path alone (:func:`grid.timeseries.solve_day`) at 60 s and 1 s;
  3. ``pp.runpp`` on ``--sample-steps`` evenly spaced intervals of the 1 s day, extrapolated
     to the whole day at each resolution, and the ratio to the fast path;
  4. the agreement on those samples: worst bus-voltage difference [pu], worst relative
     difference in grid P and Q.

    python -m benchmarks.grid                                   # 1-LV-semiurb4, 41 meters
    python -m benchmarks.grid --feeder 1-LV-urban6 --meters 111 --sample-steps 50
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandapower as pp

from grid.inputs import load_day_inputs
from grid.timeseries import bus_voltages, feeder_model, solve_day

ROOT = Path(__file__).resolve().parent.parent
DAY = date(2026, 6, 21)
TZ = ZoneInfo("Europe/Berlin")


def make_inputs(directory: Path, meters: int) -> None:
    """Batch-mode day CSVs of ``meters`` meters at 1 s (reused if already there)."""
    if (directory / f"meter-{meters}" / f"{DAY}.csv").exists():
        return
    subprocess.run([sys.executable, "-m", "batch", "--date", DAY.isoformat(), "--meters", str(meters),
                    "--output-dir", str(directory), "--log-level", "WARNING"], cwd=ROOT, check=True)


def run_command(directory: Path, feeder: str, resolution_s: int) -> tuple[float, float, float, str]:
    """``python -m grid`` as a process: (wall seconds, CPU seconds, peak RSS [MB], its read/solve log excerpt)."""
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "grid", "--output-dir", str(directory), "--date",
                                DAY.isoformat(), "--feeder", feeder, "--resolution-s", str(resolution_s)],
                               cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), stderr=subprocess.PIPE)
    assert process.stderr is not None
    log = process.stderr.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"python -m grid failed:\n{log}")
    found = re.search(r"\(read ([\d.]+) s, solve ([\d.]+) s, total ([\d.]+) s\)", log)
    split = f"read {found[1]} s, solve {found[2]} s, in-command total {found[3]} s" if found else "?"
    cpu_s = usage.ru_utime + usage.ru_stime
    return time.monotonic() - started, cpu_s, usage.ru_maxrss / 1024, split


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeder", default="1-LV-semiurb4")
    parser.add_argument("--meters", type=int, default=41)
    parser.add_argument("--sample-steps", type=int, default=100, help="intervals solved by pp.runpp")
    parser.add_argument("--inputs", type=Path, help="directory for the meter CSVs (default: a temporary one)")
    args = parser.parse_args(argv)
    directory = args.inputs or Path(tempfile.mkdtemp(prefix="pvsim-grid-bench-"))
    print(f"feeder {args.feeder}, {args.meters} buildings, {DAY}, inputs in {directory}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    make_inputs(directory, args.meters)

    for resolution_s in (60, 1):
        seconds, cpu_s, rss_mb, split = run_command(directory, args.feeder, resolution_s)
        print(f"python -m grid at {resolution_s:>2} s: {seconds:6.2f} s wall, {cpu_s:6.2f} s CPU ({split}), "
              f"peak RSS {rss_mb:.0f} MB")

    fast: dict[int, tuple[float, float, int]] = {}
    inputs = {}
    for resolution_s in (60, 1):
        inputs[resolution_s] = day = load_day_inputs(directory, DAY, TZ, resolution_s)
        feeder_model(args.feeder, day.meter_ids)  # built once per process, as in the command
        started, cpu_started = time.perf_counter(), time.process_time()
        solve_day(args.feeder, day.meter_ids, day.meter_kw, day.pv_kw)
        fast[resolution_s] = (time.perf_counter() - started, time.process_time() - cpu_started,
                              day.meter_kw.shape[0])

    day = inputs[1]
    steps = np.linspace(0, day.meter_kw.shape[0] - 1, args.sample_steps).astype(int)
    placed = copy.deepcopy(feeder_model(args.feeder, day.meter_ids).placed)
    net = placed.net
    buses, fast_vm = bus_voltages(args.feeder, day.meter_ids, day.meter_kw[steps], day.pv_kw[steps])
    fast_result = solve_day(args.feeder, day.meter_ids, day.meter_kw[steps], day.pv_kw[steps])
    worst_vm = worst_p = worst_q = 0.0
    started, cpu_started = time.perf_counter(), time.process_time()
    for row, step in enumerate(steps):
        placed.set_powers(day.meter_kw[step], day.pv_kw[step], 0.95)
        pp.runpp(net, numba=False)
        worst_vm = max(worst_vm, float(np.abs(fast_vm[row] - net.res_bus.vm_pu.loc[buses].to_numpy()).max()))
        p_kw, q_kvar = net.res_ext_grid.p_mw.sum() * 1e3, net.res_ext_grid.q_mvar.sum() * 1e3
        worst_p = max(worst_p, abs(fast_result.grid_p_kw[row] - p_kw) / max(abs(p_kw), 1e-9))
        worst_q = max(worst_q, abs(fast_result.grid_q_kvar[row] - q_kvar) / max(abs(q_kvar), 1e-9))
    per_step = (time.perf_counter() - started) / len(steps)
    per_step_cpu = (time.process_time() - cpu_started) / len(steps)
    print(f"pp.runpp: {per_step * 1e3:.1f} ms wall, {per_step_cpu * 1e3:.1f} ms CPU per interval "
          f"({len(steps)} sampled intervals)")
    for resolution_s, (seconds, cpu_s, count) in fast.items():
        loop = per_step * count
        print(f"day at {resolution_s:>2} s ({count} intervals): fast path {seconds:6.2f} s wall "
              f"({cpu_s:.2f} s CPU), runpp loop {loop:8.1f} s wall ({per_step_cpu * count:.1f} s CPU, extrapolated), "
              f"ratio {loop / seconds:5.0f}x wall, {per_step_cpu * count / cpu_s:5.0f}x CPU")
    print(f"agreement on the samples: bus voltage max |dV| {worst_vm:.2e} pu, grid P max rel {worst_p:.2e}, "
          f"grid Q max rel {worst_q:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
