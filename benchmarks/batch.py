"""Batch mode: local worker processes against a Dask cluster (a scheduler and two workers on this machine).

Runs ``python -m batch`` for the same sweep (default: a year of one meter at 1 s) in
each case, alternating them, and prints the wall time from the command's start to its
exit, the CPU time of every process involved (a figure a busy machine disturbs less than
the wall time), rows per second, and peak RSS: of the command's largest process (locally, the
pool workers are its children), and on Dask of the scheduler and of each worker
process (``VmHWM``). The cluster's start-up is timed apart: a long-lived cluster pays
it once. ``--source`` runs the local case from another checkout (a before/after
comparison on the same machine in the same run)::

    python -m benchmarks.batch                                  # local and dask, 1 repeat
    python -m benchmarks.batch --cases local --source /tmp/old  # local, this checkout and /tmp/old
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.dask_cluster import DaskCluster

ROOT = Path(__file__).resolve().parent.parent


def _run_batch(source: Path, output: Path, sweep: list[str], *extra: str) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS [MB] of the largest process of one ``python -m batch``.

    CPU and RSS include the pool's worker processes, which the command reaps.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PVSIM_")}
    env["PYTHONPATH"] = str(source)
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "batch", *sweep, "--output-dir", str(output),
                                "--log-level", "WARNING", *extra], cwd=source, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"batch failed in {source}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # Linux: max over reaped children


def _group(pgid: int) -> list[tuple[float, float]]:
    """``(CPU seconds so far, peak RSS (VmHWM) [MB])`` of each live process in process group ``pgid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:
                continue
            status = (entry / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue
        cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
        found += [(cpu_s, int(line.split()[1]) / 1024) for line in status.splitlines() if line.startswith("VmHWM:")]
    return found


def _cluster_cpu_s(cluster: DaskCluster) -> float:
    """CPU seconds the scheduler's and workers' processes have used so far."""
    return sum(cpu for p in [cluster.scheduler, *cluster.workers] for cpu, _ in _group(p.pid))


def main() -> None:
    """Parse the options, run the cases, print one line per run."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--meters", type=int, default=1)
    parser.add_argument("--interval-s", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="local processes and Dask workers")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--cases", default="local,dask", help="comma-separated: local, dask")
    parser.add_argument("--source", type=Path, action="append", default=[],
                        help="another checkout to run the local case from as well (repeatable)")
    args = parser.parse_args()
    sweep = ["--date", "2026-01-01", "--days", str(args.days), "--meters", str(args.meters),
             "--interval-s", str(args.interval_s)]
    rows = args.days * args.meters * 86_400 // args.interval_s  # about: clock changes cancel over a year
    cases = args.cases.split(",")
    scratch = Path(tempfile.mkdtemp(prefix="pvsim-bench-batch-"))
    cluster = None
    try:
        if "dask" in cases:
            folder = scratch / "cluster"
            folder.mkdir()
            started = time.monotonic()
            cluster = DaskCluster(folder, workers=args.workers)
            print(f"dask cluster (scheduler + {args.workers} workers) up in {time.monotonic() - started:.1f} s",
                  flush=True)
        print(f"{'case':<22} {'rows':>11} {'wall s':>7} {'CPU s':>6} {'rows/s':>10}  peak RSS [MB]", flush=True)
        for _ in range(args.repeats):
            for case in cases:
                sources = [ROOT, *args.source] if case == "local" else [ROOT]
                for source in sources:
                    output = scratch / "out"
                    name = f"{case} ({source.name})"
                    if case == "local":
                        elapsed, cpu_s, peak = _run_batch(source, output, sweep, "--workers", str(args.workers))
                        memory = f"largest process {peak:.0f}"
                    else:
                        assert cluster is not None
                        before = _cluster_cpu_s(cluster)
                        elapsed, cpu_s, peak = _run_batch(source, output, sweep, "--scheduler-address",
                                                          cluster.address)
                        cpu_s += _cluster_cpu_s(cluster) - before
                        scheduler = max(rss for _, rss in _group(cluster.scheduler.pid))
                        groups = ", ".join("/".join(f"{rss:.0f}" for rss in sorted((r for _, r in _group(w.pid)),
                                                                                   reverse=True))
                                           for w in cluster.workers)
                        memory = f"client {peak:.0f}, scheduler {scheduler:.0f}, worker/nanny/other {groups}"
                    print(f"{name:<22} {rows:>11,} {elapsed:>7.1f} {cpu_s:>6.1f} {rows / elapsed:>10,.0f}  {memory}",
                          flush=True)
                    shutil.rmtree(output)
    finally:
        if cluster is not None:
            cluster.close()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
