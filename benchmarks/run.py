"""Benchmark: the whole pipeline against the bare-broker floor, in one run on one broker.

For each case (meters x days at 1 s), alternately ``--repeats`` times:
  1. the floor (:mod:`benchmarks.floor`): N persistent JSON messages, windowed
     confirms, multiple-acks, two processes, no model, no file;
  2. the pipeline: ``python -m meter --speed max`` and
     ``python -m pv_simulator --exit-when-done`` as separate processes, timed from
     starting both to the PV simulator's exit with every row on disk.
Prints medians, the ratio pipeline/floor, readings per second and each service's
peak RSS and CPU time. Each pipeline run gets its own vhost (created with ``rabbitmqctl``). The project's
modules are compiled to bytecode first, as ``pip install`` and the images do: with ``PYTHONDONTWRITEBYTECODE``
set, a source checkout would compile about 50 modules at every start of a service (80-90 ms each).

    python -m benchmarks.run                      # all cases, 3 repeats
    python -m benchmarks.run --cases 1x1 --repeats 5
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from benchmarks.floor import run_floor

ROOT = Path(__file__).resolve().parent.parent
CASES = {"1x1": (1, 1), "10x1": (10, 1), "1x7": (1, 7)}


@dataclass
class PipelineRun:
    seconds: float
    meter_rss_mb: float
    pv_rss_mb: float
    meter_cpu_s: float
    pv_cpu_s: float


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def _wait(process: subprocess.Popen[bytes]) -> tuple[int, float, float]:
    """Wait for a child; returns (exit code, peak RSS [MB], CPU time [s]) from its rusage."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def compile_bytecode() -> None:
    """Compile the project's modules (not tests, docs) to bytecode, as an installed package has them."""
    compileall.compile_dir(ROOT, quiet=1, rx=re.compile(r"[/\\](tests|docs|output|\.git)[/\\]"))


def run_pipeline(base_url: str, meters: int, days: int) -> PipelineRun:
    vhost = f"pvsim-bench-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    out = Path(tempfile.mkdtemp(prefix="pvsim-bench-"))
    env = dict(os.environ, AMQP_URL=base_url.rsplit("/", 1)[0] + "/" + vhost, PYTHONPATH=str(ROOT),
               PVSIM_LOG_LEVEL="WARNING")
    try:
        start = time.perf_counter()
        pv = subprocess.Popen([sys.executable, "-m", "pv_simulator", "--exit-when-done", "--output-dir", str(out)],
                              cwd=ROOT, env=env)
        meter = subprocess.Popen([sys.executable, "-m", "meter", "--date", "2026-06-21", "--meters", str(meters),
                                  "--days", str(days), "--speed", "max"], cwd=ROOT, env=env)
        meter_code, meter_rss, meter_cpu = _wait(meter)
        pv_code, pv_rss, pv_cpu = _wait(pv)
        elapsed = time.perf_counter() - start
        if meter_code or pv_code:
            raise RuntimeError(f"pipeline failed: meter exit {meter_code}, PV simulator exit {pv_code}")
        rows = sum(max(p.read_bytes().count(b"\n") - 1, 0) for p in out.glob("*/*.csv"))
        expected = meters * days * 86_400
        if rows != expected:
            raise RuntimeError(f"pipeline wrote {rows} rows, expected {expected}")
        return PipelineRun(elapsed, meter_rss, pv_rss, meter_cpu, pv_cpu)
    finally:
        shutil.rmtree(out, ignore_errors=True)
        rabbitmqctl("delete_vhost", vhost)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/%2F")
    args = parser.parse_args()
    compile_bytecode()
    print(f"{'case':6} {'readings':>9} {'floor s':>8} {'pipeline s':>10} {'ratio':>6} {'readings/s':>11} "
          f"{'meter MB':>9} {'pv MB':>6} {'meter CPU s':>11} {'pv CPU s':>8}")
    for case in args.cases:
        meters, days = CASES[case]
        n = meters * days * 86_400
        floors, runs = [], []
        for _ in range(args.repeats):
            floors.append(run_floor(args.amqp_url, n))
            runs.append(run_pipeline(args.amqp_url, meters, days))
            print(f"  {case}: floor {floors[-1]:.2f} s, pipeline {runs[-1].seconds:.2f} s "
                  f"(CPU meter {runs[-1].meter_cpu_s:.2f} s, PV {runs[-1].pv_cpu_s:.2f} s)", file=sys.stderr)
        floor = statistics.median(floors)
        pipeline = statistics.median(r.seconds for r in runs)
        print(f"{case:6} {n:>9,} {floor:>8.2f} {pipeline:>10.2f} {pipeline / floor:>6.2f} {n / pipeline:>11,.0f} "
              f"{max(r.meter_rss_mb for r in runs):>9.0f} {max(r.pv_rss_mb for r in runs):>6.0f} "
              f"{statistics.median(r.meter_cpu_s for r in runs):>11.2f} "
              f"{statistics.median(r.pv_cpu_s for r in runs):>8.2f}", flush=True)


if __name__ == "__main__":
    main()
