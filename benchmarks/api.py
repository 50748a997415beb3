"""Speed of the web service, in one run on one machine (a benchmark, not a test).

Prints:

- POST /api/simulations of the assignment's network: p50 / p99 over sequential requests
  (target: p50 under 60 ms);
- GET /api/simulations/latest/active-power from a concurrent client that sends at a fixed rate
  (default 500 requests/s, open loop): p50 / p99 and the requests/s served (target: p99 under
  10 ms at 500 requests/s);
- time from a row's fsync to its interval at a WebSocket client, over a max-speed day through
  meter → PV simulator → pvsim.results → api → /ws/live (target: within 1 s). The row's fsync
  time is bounded from above by the moment the row that closes the interval is visible in the
  day file (rows are written before they are fsynced and published), so the figure is an
  upper bound.

Each part runs ``python -m api`` as a process with a SQLite database in a temporary directory
and its own vhost on the local broker::

    .venv/bin/python -m benchmarks.api
    .venv/bin/python -m benchmarks.api --posts 300 --rate 500 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import websockets

ROOT = Path(__file__).resolve().parent.parent
BROKER = os.environ.get("PVSIM_BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672")


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class Api:
    """``python -m api`` on a free port against ``amqp_url``, SQLite in ``workdir``."""

    def __init__(self, amqp_url: str, workdir: Path, interval_s: int = 60) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PVSIM_") and k != "AMQP_URL"}
        env.update(AMQP_URL=amqp_url, PYTHONPATH=str(ROOT), PVSIM_OUTPUT_DIR=str(workdir),
                   PVSIM_API_PORT=str(self.port), PVSIM_LOG_LEVEL="WARNING")
        self.log = open(workdir / "api.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen([sys.executable, "-m", "api"], cwd=ROOT, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/api/health", timeout=2).json()["live"]["broker"] == "connected":
                    return
            except (httpx.HTTPError, KeyError, ValueError):
                time.sleep(0.2)
        raise SystemExit(f"api did not start; see {workdir / 'api.log'}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def bench_post(api: Api, posts: int) -> list[float]:
    """Latencies [ms] of sequential POSTs of the assignment's network (one kept-alive connection)."""
    latencies = []
    with httpx.Client(base_url=api.base, timeout=30) as client:
        for _ in range(10):  # warm the connection and the code paths
            client.post("/api/simulations").raise_for_status()
        for _ in range(posts):
            start = time.perf_counter()
            client.post("/api/simulations").raise_for_status()
            latencies.append((time.perf_counter() - start) * 1000)
    return latencies


def bench_get_sequential(api: Api, requests: int) -> list[float]:
    """Latencies [ms] of sequential GET latest on one kept-alive connection (no queueing)."""
    latencies = []
    with httpx.Client(base_url=api.base, timeout=30) as client:
        for _ in range(50):
            client.get("/api/simulations/latest/active-power")
        for _ in range(requests):
            start = time.perf_counter()
            client.get("/api/simulations/latest/active-power").raise_for_status()
            latencies.append((time.perf_counter() - start) * 1000)
    return latencies


async def _get_at_rate(base: str, rate: float, seconds: float) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    timeout = httpx.Timeout(10.0, pool=None)
    async with httpx.AsyncClient(base_url=base, timeout=timeout, limits=limits) as client:
        for _ in range(50):
            await client.get("/api/simulations/latest/active-power")

        in_flight = asyncio.Semaphore(64)  # httpx's pool slows down badly with thousands of queued requests

        async def one(scheduled: float) -> None:
            # Latency from the moment the request was due: waiting for a free connection counts too.
            nonlocal errors
            try:
                async with in_flight:
                    response = await client.get("/api/simulations/latest/active-power")
            except httpx.HTTPError:
                errors += 1
                return
            if response.status_code == 200:
                latencies.append((time.perf_counter() - scheduled) * 1000)
            else:
                errors += 1

        tasks = []
        begin = time.perf_counter()
        total = int(rate * seconds)
        for n in range(total):  # open loop: request n leaves at begin + n / rate, whatever the answers do
            scheduled = begin + n / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(scheduled)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - begin
    return latencies, len(latencies) / elapsed, errors


def bench_get(api: Api, rate: float, seconds: float) -> tuple[list[float], float, int]:
    """Latencies [ms] and served requests/s of GET latest at ``rate`` requests/s."""
    return asyncio.run(_get_at_rate(api.base, rate, seconds))


class DayFileWatcher(threading.Thread):
    """Notes when each row's timestamp first becomes visible in a day file (polled every 2 ms)."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.seen: dict[datetime, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        offset = 0
        pending = b""
        while not self.stop.is_set():
            if self.path.exists():
                with open(self.path, "rb") as handle:
                    handle.seek(offset)
                    chunk = handle.read()
                now = time.perf_counter()
                offset += len(chunk)
                lines = (pending + chunk).split(b"\n")
                pending = lines.pop()
                for line in lines:
                    if line and not line.startswith(b"timestamp"):
                        moment = datetime.fromisoformat(line.split(b",", 1)[0].decode()).astimezone(UTC)
                        self.seen.setdefault(moment, now)
            time.sleep(0.002)


async def _watch_live(url: str, arrivals: dict[datetime, float], done: asyncio.Event, ready: asyncio.Event) -> None:
    async with websockets.connect(url, max_queue=None) as ws:
        ready.set()
        while not done.is_set():
            try:
                text = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except TimeoutError:
                continue
            message = orjson.loads(text)
            if message["type"] == "interval":
                start = datetime.fromisoformat(message["interval_start"].replace("Z", "+00:00"))
                arrivals.setdefault(start, time.perf_counter())


def bench_live(amqp_url: str, workdir: Path, api: Api, date: str, interval_s: int) -> list[float] | None:
    """fsync → WebSocket latencies [ms] of a max-speed day, or ``None`` without a results feed."""
    help_text = subprocess.run([sys.executable, "-m", "pv_simulator", "--help"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout
    if "--results-interval-s" not in help_text:
        return None
    env = {k: v for k, v in os.environ.items() if not k.startswith("PVSIM_") and k != "AMQP_URL"}
    env.update(AMQP_URL=amqp_url, PYTHONPATH=str(ROOT), PVSIM_TIMEZONE="Europe/Berlin", PVSIM_LOG_LEVEL="WARNING")
    output = workdir / "output"
    watcher = DayFileWatcher(output / "meter-1" / f"{date}.csv")
    watcher.start()
    arrivals: dict[datetime, float] = {}

    async def scenario() -> None:
        done, ready = asyncio.Event(), asyncio.Event()
        watch = asyncio.create_task(_watch_live(api.base.replace("http", "ws") + "/ws/live?types=interval",
                                                arrivals, done, ready))
        await ready.wait()
        pv = subprocess.Popen([sys.executable, "-m", "pv_simulator", "--output-dir", str(output), "--exit-when-done",
                               "--results-interval-s", str(interval_s)], cwd=ROOT, env=env)
        meter = subprocess.Popen([sys.executable, "-m", "meter", "--date", date], cwd=ROOT, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await asyncio.to_thread(meter.wait)
        await asyncio.to_thread(pv.wait)
        expected = 86_400 // interval_s
        deadline = time.monotonic() + 30
        while len(arrivals) < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        done.set()
        await watch

    asyncio.run(scenario())
    watcher.stop.set()
    latencies = []
    for start, arrived in arrivals.items():
        closing = start + timedelta(seconds=interval_s)
        visible = watcher.seen.get(closing) or watcher.seen.get(start + timedelta(seconds=interval_s - 1))
        if visible is not None:
            latencies.append((arrived - visible) * 1000)
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.api", description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=300, help="sequential POSTs to time")
    parser.add_argument("--rate", type=float, default=500.0, help="GET latest requests per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to send GETs [s]")
    parser.add_argument("--date", default="2026-06-21", help="the day of the live-feed run")
    parser.add_argument("--interval-s", type=int, default=60, help="the PV simulator's results interval [s]")
    args = parser.parse_args()

    vhost = f"pvsim-bench-api-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    workdir = Path(tempfile.mkdtemp(prefix="pvsim-bench-api-"))
    amqp_url = f"{BROKER}/{vhost}"
    load = os.getloadavg()[0]
    try:
        api = Api(amqp_url, workdir)
        try:
            posts = bench_post(api, args.posts)
            print(f"POST /api/simulations (assignment), {len(posts)} sequential: "
                  f"p50 {statistics.median(posts):.1f} ms, p99 {percentile(posts, 99):.1f} ms")
            sequential = bench_get_sequential(api, 500)
            print(f"GET latest active power, {len(sequential)} sequential (service time): "
                  f"p50 {statistics.median(sequential):.2f} ms, p99 {percentile(sequential, 99):.2f} ms")
            gets, served, errors = bench_get(api, args.rate, args.seconds)
            print(f"GET latest active power at {args.rate:.0f}/s for {args.seconds:.0f} s: "
                  f"p50 {statistics.median(gets):.2f} ms, p99 {percentile(gets, 99):.2f} ms, "
                  f"{served:.0f} requests/s served, {errors} errors")
            live = bench_live(amqp_url, workdir, api, args.date, args.interval_s)
            if live is None:
                print("fsync -> WebSocket: n/a (this PV simulator publishes no live results)")
            elif not live:
                print("fsync -> WebSocket: no interval arrived")
            else:
                print(f"fsync -> WebSocket, {len(live)} intervals of a max-speed day: p50 {statistics.median(live):.0f}"
                      f" ms, p99 {percentile(live, 99):.0f} ms, max {max(live):.0f} ms (upper bound)")
        finally:
            api.stop()
    finally:
        rabbitmqctl("delete_vhost", vhost)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"(load average {load:.1f} at the start, {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
