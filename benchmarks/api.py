"""Speed of the web service, in one run on one machine (a benchmark, not a test).

Prints:

- POST /api/simulations of the assignment's network: p50 / p99 over sequential requests
  (target: p50 under 60 ms);
- GET /api/simulations/latest/active-power from a load client in a process of its own that sends
  at a fixed rate (default 500 requests/s, open loop: latency from each request's scheduled send
  time, so a stalled service is not hidden by a client that waits for it): p50 / p99, the
  requests/s served and the CPU seconds of service and client (target: p99 under 10 ms at
  500 requests/s);
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
import concurrent.futures
import multiprocessing
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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import websockets

ROOT = Path(__file__).resolve().parent.parent
LATEST_ACTIVE = "/api/simulations/latest/active-power"
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

    def __init__(self, amqp_url: str, workdir: Path, root: Path = ROOT) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PVSIM_") and k != "AMQP_URL"}
        env.update(AMQP_URL=amqp_url, PYTHONPATH=str(root), PVSIM_OUTPUT_DIR=str(workdir),
                   PVSIM_API_PORT=str(self.port), PVSIM_LOG_LEVEL="WARNING")
        self.log = open(workdir / "api.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen([sys.executable, "-m", "api"], cwd=root, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/api/health", timeout=2).json()["live"]["broker"] == "connected":
                    return
            except (httpx.HTTPError, KeyError, ValueError):
                time.sleep(0.2)
        raise SystemExit(f"api did not start; see {workdir / 'api.log'}")

    def cpu_s(self) -> float:
        """User + system CPU time the service process has used so far [s] (Linux ``/proc``)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def bench_post(api: Api, posts: int) -> list[float]:
    """Latencies [ms] of sequential POSTs of the assignment's network (one kept-alive connection)."""
    latencies = []
    with httpx.Client(base_url=api.base, timeout=30) as client:
        for _ in range(10):  # warm the connection and the code paths
            client.post("/api/simulations", json={}).raise_for_status()
        for _ in range(posts):
            start = time.perf_counter()
            client.post("/api/simulations", json={}).raise_for_status()
            latencies.append((time.perf_counter() - start) * 1000)
    return latencies


def bench_get_sequential(api: Api, requests: int) -> list[float]:
    """Latencies [ms] of sequential GET latest on one kept-alive connection (no queueing)."""
    latencies = []
    with httpx.Client(base_url=api.base, timeout=30) as client:
        for _ in range(50):
            client.get(LATEST_ACTIVE)
        for _ in range(requests):
            start = time.perf_counter()
            client.get(LATEST_ACTIVE).raise_for_status()
            latencies.append((time.perf_counter() - start) * 1000)
    return latencies


@dataclass(frozen=True)
class RateRun:
    """What an open-loop run of GETs gave: latencies [ms] from each request's scheduled send time
    (successes only), requests/s served, failures, and the load client's own CPU time [s]."""

    latencies_ms: list[float]
    served_per_s: float
    errors: int
    client_cpu_s: float


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """One HTTP/1.1 request on a kept-alive connection; returns the status code (body read and dropped)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(head.split(b" ", 2)[1])


async def _open_loop(host: str, port: int, path: str, rate: float, seconds: float, connections: int) -> RateRun:
    """Send ``rate`` GETs per second for ``seconds``: request n is due at ``begin + n / rate``, whatever
    the answers do (open loop, no coordinated omission). A request waits for a free connection of
    ``connections`` kept-alive ones, and that wait counts in its latency."""
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await asyncio.open_connection(host, port))
    for _ in range(50):  # warm the server's code paths
        pair = await idle.get()
        await _exchange(*pair, request)
        idle.put_nowait(pair)
    latencies: list[float] = []
    errors = 0
    done_at = 0.0

    async def one(scheduled: float) -> None:
        nonlocal errors, done_at
        reader, writer = await idle.get()
        try:
            status = await asyncio.wait_for(_exchange(reader, writer, request), timeout=10)
        except (OSError, asyncio.IncompleteReadError, TimeoutError):
            errors += 1
            writer.close()
            idle.put_nowait(await asyncio.open_connection(host, port))
            return
        idle.put_nowait((reader, writer))
        done_at = time.perf_counter()
        if status == 200:
            latencies.append((done_at - scheduled) * 1000)
        else:
            errors += 1

    cpu = time.process_time()
    tasks = []
    begin = time.perf_counter()
    for n in range(int(rate * seconds)):
        scheduled = begin + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    cpu = time.process_time() - cpu
    while not idle.empty():
        idle.get_nowait()[1].close()
    return RateRun(latencies, len(latencies) / max(done_at - begin, 1e-9), errors, cpu)


def _open_loop_process(host: str, port: int, path: str, rate: float, seconds: float, connections: int) -> RateRun:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(_open_loop(host, port, path, rate, seconds, connections))
    return uvloop.run(_open_loop(host, port, path, rate, seconds, connections))


def bench_get(api: Api, rate: float, seconds: float, path: str = LATEST_ACTIVE, connections: int = 32) -> RateRun:
    """GET ``path`` at ``rate`` requests/s for ``seconds`` from a load client in a process of its own.

    The client is a minimal HTTP/1.1 sender on raw sockets (uvloop when installed), so it costs
    little CPU next to the service, and sitting in another process it never delays the service's
    event loop (nor the reverse) beyond sharing the cores.
    """
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_open_loop_process, "127.0.0.1", api.port, path, rate, seconds, connections).result()


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
            service_cpu = api.cpu_s()
            run = bench_get(api, args.rate, args.seconds)
            service_cpu = api.cpu_s() - service_cpu
            print(f"GET latest active power at {args.rate:.0f}/s for {args.seconds:.0f} s (open loop, from the "
                  f"scheduled send): p50 {statistics.median(run.latencies_ms):.2f} ms, "
                  f"p99 {percentile(run.latencies_ms, 99):.2f} ms, {run.served_per_s:.0f} requests/s served, "
                  f"{run.errors} errors; CPU: service {service_cpu:.1f} s, load client {run.client_cpu_s:.1f} s")
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
