"""Benchmark: many meters and long runs through the broker, with memory peaks and I/O-loop stalls.

For each case (meters x days at an interval), runs ``python -m meter --speed max`` and
``python -m pv_simulator --exit-when-done`` as separate processes on a fresh vhost,
times them from start to the PV simulator's exit, checks that every reading is in
its CSV exactly once, and prints readings per second, each service's peak RSS and CPU
seconds (user + system, from ``wait4``; steadier than wall time on a loaded machine) and the
longest I/O-loop stall each service logged at its end
(:class:`common.loopwatch.LoopWatch`; ``n/a`` for code that does not log it).

    python -m benchmarks.scale                              # all cases
    python -m benchmarks.scale --cases 1x1@1 1000x1@60
    python -m benchmarks.scale --root /path/to/other/checkout   # the same cases on other code (before/after)
    python -m benchmarks.scale --meter-memory               # the meter's readings at 1 s, without a broker

The reference for "readings per second" is the single-meter day at 1 s (``1x1@1``).
Not a test: it prints figures; CPU on a shared machine makes them vary, so the load
average is printed with each case.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from models.plan import RunPlan

ROOT = Path(__file__).resolve().parent.parent
CASES = {  # name: (meters, days, interval_s)
    "1x1@1": (1, 1, 1),
    "10x1@60": (10, 1, 60),
    "1000x1@60": (1000, 1, 60),
    "1x366@60": (1, 366, 60),
}
FIRST_DAY = date(2026, 6, 21)
STALL = re.compile(r"longest I/O-loop stall (\d+) ms")


@dataclass
class CaseResult:
    readings: int
    seconds: float
    meter_rss_mb: float
    pv_rss_mb: float
    meter_cpu_s: float
    pv_cpu_s: float
    meter_stall_ms: str
    pv_stall_ms: str
    load: tuple[float, float]


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=120)


def _wait(process: subprocess.Popen[bytes], timeout_s: float) -> tuple[int, float, float]:
    """Wait for a child; returns (exit code, peak RSS [MB], CPU time: user + system [s]) from its rusage."""
    deadline = time.monotonic() + timeout_s
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return process.returncode, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{process.args} still running after {timeout_s} s")
        time.sleep(0.05)


def _stall(log: Path) -> str:
    found = STALL.findall(log.read_text(errors="replace"))
    return found[-1] if found else "n/a"


def check_exactly_once(out: Path, meters: int, readings_per_meter: int) -> int:
    """Rows in all CSVs; raises if a meter misses a reading or holds one twice."""
    total = 0
    for number in range(1, meters + 1):
        stamps: list[bytes] = []
        for path in sorted((out / f"meter-{number}").glob("*.csv")):
            stamps.extend(line.split(b",", 1)[0] for line in path.read_bytes().splitlines()[1:])
        if len(stamps) != readings_per_meter or len(set(stamps)) != len(stamps):
            raise RuntimeError(f"meter-{number}: {len(stamps)} rows, {len(set(stamps))} distinct, "
                               f"expected {readings_per_meter}")
        total += len(stamps)
    return total


def run_case(base_url: str, root: Path, meters: int, days: int, interval_s: int, logs: Path) -> CaseResult:
    vhost = f"pvsim-scale-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    out = Path(tempfile.mkdtemp(prefix="pvsim-scale-", dir=logs))
    env = dict(os.environ, AMQP_URL=base_url.rsplit("/", 1)[0] + "/" + vhost, PYTHONPATH=str(root),
               PVSIM_LOG_LEVEL="INFO")
    name = f"{meters}x{days}@{interval_s}"
    pv_log, meter_log = logs / f"{name}-pv.log", logs / f"{name}-meter.log"
    try:
        start = time.perf_counter()
        with pv_log.open("wb") as pv_out, meter_log.open("wb") as meter_out:
            pv = subprocess.Popen([sys.executable, "-m", "pv_simulator", "--exit-when-done", "--output-dir",
                                   str(out)], cwd=root, env=env, stdout=pv_out, stderr=subprocess.STDOUT)
            meter = subprocess.Popen([sys.executable, "-m", "meter", "--date", FIRST_DAY.isoformat(),
                                      "--meters", str(meters), "--days", str(days), "--interval-s", str(interval_s),
                                      "--speed", "max"],
                                     cwd=root, env=env, stdout=meter_out, stderr=subprocess.STDOUT)
            meter_code, meter_rss, meter_cpu = _wait(meter, 3600)
            pv_code, pv_rss, pv_cpu = _wait(pv, 3600)
        elapsed = time.perf_counter() - start
        if meter_code or pv_code:
            raise RuntimeError(f"{name} failed: meter exit {meter_code}, PV simulator exit {pv_code}; see {logs}")
        per_meter = RunPlan(("meter-1",), FIRST_DAY, days, ZoneInfo("Europe/Berlin"), interval_s, 0,
                            "random-walk").readings_per_meter  # a year has two clock changes
        readings = check_exactly_once(out, meters, per_meter)
        load = os.getloadavg()
        return CaseResult(readings, elapsed, meter_rss, pv_rss, meter_cpu, pv_cpu, _stall(meter_log), _stall(pv_log),
                          (load[0], load[1]))
    finally:
        shutil.rmtree(out, ignore_errors=True)
        rabbitmqctl("delete_vhost", vhost)


_MEMORY_PROBE = """
import resource, sys
from datetime import date
from zoneinfo import ZoneInfo
from models.plan import DayStream, RunPlan
meters, how = int(sys.argv[1]), sys.argv[2]
plan = RunPlan(tuple(f"meter-{n}" for n in range(1, meters + 1)), date(2026, 6, 21), 1, ZoneInfo("Europe/Berlin"),
               1, 0, "random-walk")
if how == "whole-day":  # what the meter held before: a whole day of every meter as Python floats
    values = plan.day(0).power_w.tolist()
else:  # a DayStream, walked through the first 3 chunks
    stream = DayStream(plan, 0)
    for i in range(0, min(3 * stream.chunk_len, len(stream.timestamps_s)), stream.chunk_len):
        stream.seek(i)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def meter_memory(root: Path) -> None:
    """Peak RSS of generating one day at 1 s: whole day of every meter vs. a :class:`DayStream`."""
    print(f"{'meters':>7} {'how':>10} {'peak RSS MB':>12}")
    for meters, how in ((1, "whole-day"), (100, "whole-day"), (1, "stream"), (100, "stream"), (1000, "stream")):
        done = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, str(meters), how], cwd=root, check=True,
                              capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(root)))
        print(f"{meters:>7} {how:>10} {float(done.stdout):>12.0f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose services to run (default: this one)")
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/%2F")
    parser.add_argument("--logs", type=Path, default=None, help="keep the services' logs here (default: a temp dir)")
    parser.add_argument("--meter-memory", action="store_true", help="only measure the meter's readings in memory")
    args = parser.parse_args()
    if args.meter_memory:
        meter_memory(args.root.resolve())
        return
    logs = args.logs or Path(tempfile.mkdtemp(prefix="pvsim-scale-logs-"))
    logs.mkdir(parents=True, exist_ok=True)
    print(f"code: {args.root}  logs: {logs}  cores: {os.cpu_count()}", flush=True)
    print(f"{'case':10} {'readings':>10} {'seconds':>8} {'readings/s':>11} {'meter MB':>9} {'pv MB':>6} "
          f"{'meter CPU s':>12} {'pv CPU s':>9} {'meter stall ms':>15} {'pv stall ms':>12} {'load 1/5 min':>13}",
          flush=True)
    for case in args.cases:
        meters, days, interval_s = CASES[case]
        try:
            r = run_case(args.amqp_url, args.root.resolve(), meters, days, interval_s, logs)
        except RuntimeError as error:
            print(f"{case:10} failed: {error}", flush=True)
            continue
        print(f"{case:10} {r.readings:>10,} {r.seconds:>8.1f} {r.readings / r.seconds:>11,.0f} "
              f"{r.meter_rss_mb:>9.0f} {r.pv_rss_mb:>6.0f} {r.meter_cpu_s:>12.1f} {r.pv_cpu_s:>9.1f} "
              f"{r.meter_stall_ms:>15} {r.pv_stall_ms:>12} "
              f"{r.load[0]:>6.1f}/{r.load[1]:<6.1f}", flush=True)


if __name__ == "__main__":
    main()
