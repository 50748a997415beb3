"""Benchmark: stochastic hosting capacity with power-grid-model batches against a ``pp.runpp`` loop.

In one run:
  1. ``python -m grid hosting-capacity`` as a process on ``--feeder`` (default ``1-LV-rural1``)
     with ``--scenarios`` (default 1,000): wall time (target < 60 s), the solve time it logs,
     peak RSS, and P5 / P50 / P95 of the capacity;
  2. in this process, the batch solver alone (:func:`grid.hosting.solve.find_violations`);
  3. ``pp.runpp`` on ``--sample-steps`` random steps of those scenarios (set the PV, solve,
     check the limits: what the pandapower tutorial's loop does per step), extrapolated to
     the steps a runpp loop needs (each scenario up to its first violation), and the ratio
     to the batch solver (target ≥ 50×) and to the whole command;
  4. with ``--memory-feeder`` (default ``1-LV-rural3``, 118 loads): the command's peak RSS there.

    python -m benchmarks.hosting
    python -m benchmarks.hosting --feeder 1-LV-semiurb4 --scenarios 2000 --sample-steps 100
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandapower as pp

from grid.hosting.scenarios import draw_scenarios
from grid.hosting.solve import Limits, find_violations, prepare

ROOT = Path(__file__).resolve().parent.parent


def run_command(directory: Path, feeder: str, scenarios: int, seed: int) -> tuple[float, float, float, dict]:
    """The command as a process: (wall s, logged solve s, peak RSS [MB], its summary.json)."""
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "grid", "hosting-capacity", "--feeder", feeder, "--scenarios",
                                str(scenarios), "--seed", str(seed), "--output-dir", str(directory)], cwd=ROOT,
                               env=dict(os.environ, PYTHONPATH=str(ROOT)), stderr=subprocess.PIPE)
    assert process.stderr is not None
    log = process.stderr.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"python -m grid hosting-capacity failed:\n{log}")
    wall = time.monotonic() - started
    solve = re.search(r"solve ([\d.]+) s", log)
    summary = json.loads((directory / "grid" / feeder / "hosting-capacity" / "summary.json").read_text())
    return wall, float(solve.group(1)) if solve else float("nan"), usage.ru_maxrss / 1024, summary


def runpp_loop_s(feeder: str, scenarios: int, seed: int, samples: int) -> tuple[float, int, int]:
    """Seconds per step of a runpp loop (set PV, runpp, check limits) on ``samples`` random steps,
    the steps a runpp loop needs for all scenarios, and the steps the batch solver solved."""
    hosting = prepare(feeder)
    drawn = draw_scenarios(scenarios, hosting.buildings, seed)
    limits = Limits()
    found = find_violations(hosting, drawn, limits)
    needed = int(np.where(found.first_step > 0, found.first_step, hosting.buildings).sum())
    rng = np.random.default_rng(seed + 1)
    picks = rng.integers(0, scenarios, samples)
    steps = rng.integers(1, hosting.buildings + 1, samples)
    placed = copy.deepcopy(hosting.model.placed)
    net = placed.net
    lv = net.bus.vn_kv <= 1.0
    violations = 0
    started = time.perf_counter()
    for scenario, step in zip(picks, steps, strict=True):
        pv_kw = drawn.pv_kwp(np.array([scenario]), np.array([step]))[0, 0] * hosting.operating.pv_share
        placed.set_powers(hosting.load_kw, pv_kw, hosting.operating.power_factor)
        pp.runpp(net, numba=False)
        violations += bool(net.res_bus.vm_pu[lv].max() > limits.vm_max_pu
                           or net.res_line.loading_percent.max() > limits.loading_max_percent
                           or net.res_trafo.loading_percent.max() > limits.loading_max_percent)
    per_step = (time.perf_counter() - started) / samples
    return per_step, needed, violations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeder", default="1-LV-rural1")
    parser.add_argument("--scenarios", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sample-steps", type=int, default=200, help="runpp steps timed (then extrapolated)")
    parser.add_argument("--memory-feeder", default="1-LV-rural3", help="also run the command here for its RSS "
                        "('' to skip)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wall, logged_solve, rss, summary = run_command(Path(tmp), args.feeder, args.scenarios, args.seed)
        capacity = summary["capacity_kwp"]
        print(f"{args.feeder}: {args.scenarios} scenarios x {summary['buildings']} buildings, "
              f"{summary['power_flows']} power flows solved")
        print(f"  command: {wall:.1f} s wall (target < 60 s), solve {logged_solve:.2f} s, peak RSS {rss:.0f} MB")
        print(f"  capacity P5 / P50 / P95: {capacity['p5']:.1f} / {capacity['p50']:.1f} / {capacity['p95']:.1f} kWp; "
              f"binding {', '.join(f'{k} {v:.0%}' for k, v in summary['binding_share'].items() if v)}")
        hosting = prepare(args.feeder)
        drawn = draw_scenarios(args.scenarios, hosting.buildings, args.seed)
        started = time.perf_counter()
        find_violations(hosting, drawn, Limits())
        batch_s = time.perf_counter() - started
        per_step, needed, violated = runpp_loop_s(args.feeder, args.scenarios, args.seed, args.sample_steps)
        loop_s = per_step * needed
        print(f"  batch solver in process: {batch_s:.2f} s")
        print(f"  pp.runpp loop: {per_step * 1e3:.1f} ms per step on {args.sample_steps} sampled steps "
              f"({violated} violating) x {needed} steps the loop needs = {loop_s:.0f} s (extrapolated)")
        print(f"  speed-up: {loop_s / batch_s:.0f}x vs the batch solver (target >= 50x), "
              f"{loop_s / wall:.0f}x vs the whole command")
        if args.memory_feeder:
            wall, logged_solve, rss, summary = run_command(Path(tmp), args.memory_feeder, args.scenarios, args.seed)
            capacity = summary["capacity_kwp"]
            print(f"{args.memory_feeder}: {args.scenarios} scenarios x {summary['buildings']} buildings, "
                  f"{summary['power_flows']} power flows: {wall:.1f} s wall, solve {logged_solve:.2f} s, "
                  f"peak RSS {rss:.0f} MB; P5 / P50 / P95 {capacity['p5']:.1f} / {capacity['p50']:.1f} / "
                  f"{capacity['p95']:.1f} kWp")


if __name__ == "__main__":
    main()
