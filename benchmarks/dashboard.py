"""Benchmark: how fast the live dashboard shows data, in a real browser against a real day.

One run on the local broker (its own vhost): ``python -m api`` on a free port (SQLite), the
PV simulator and the meter as processes at ``--speed``, Debian's chromium through Playwright.
Prints:

* *first data*: from the start of navigation to the day's figures (energy balance, pipeline)
  on screen, and to the first interval drawn in the power chart, for ``--loads`` fresh
  browser contexts (no cache) opened mid-day and again once the day is complete (1,440
  intervals to fetch and draw). Target: under 2 s.
* *live latency*: for every interval result, from its arrival at the broker's consumers (a
  probe queue bound to ``pvsim.results`` beside the service's own, so it is delivered at the
  same moment) to the moment the page following the day has drawn it. Target: under 1 s.

With ``--screenshots DIR`` it also saves ``dashboard-running.png`` (mid-day) and
``dashboard-finished.png`` (the complete day) at 1280x800.

    python -m benchmarks.dashboard                       # speed 720: a day in two minutes
    python -m benchmarks.dashboard --speed 2000 --screenshots docs
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pika
from playwright.sync_api import Browser, Page, sync_playwright

from common import topology
from tests.browser.harness import VIEWPORT, launch_chromium, serve_api
from tests.conftest import BROKER_URL, rabbitmqctl, start_service, url_for_vhost

INTERVALS_PER_DAY = 1440


class Probe(threading.Thread):
    """Records when each interval result reaches a consumer of ``pvsim.results`` (wall clock, ms)."""

    def __init__(self, amqp_url: str) -> None:
        super().__init__(daemon=True)
        self.arrivals: dict[tuple[str, int], float] = {}
        self.ready = threading.Event()
        self.amqp_url = amqp_url
        self._stop_requested = False

    def run(self) -> None:
        connection = pika.BlockingConnection(pika.URLParameters(self.amqp_url))
        channel = connection.channel()
        channel.exchange_declare(topology.RESULTS_EXCHANGE, topology.EXCHANGE_TYPES[topology.RESULTS_EXCHANGE],
                                 durable=True)
        queue = channel.queue_declare("", exclusive=True).method.queue
        channel.queue_bind(queue, topology.RESULTS_EXCHANGE, topology.INTERVAL_BINDING)
        self.ready.set()
        for _method, _properties, body in channel.consume(queue, auto_ack=True, inactivity_timeout=0.2):
            if self._stop_requested:
                break
            if body is None:
                continue
            now = time.time() * 1000
            message = json.loads(body)
            key = (message["meter_id"], int(datetime.fromisoformat(message["interval_start"]).timestamp() * 1000))
            self.arrivals.setdefault(key, now)
        connection.close()

    def stop(self) -> None:
        self._stop_requested = True
        self.join(timeout=5)


def first_data_ms(browser: Browser, url: str) -> tuple[float, float]:
    """Milliseconds from navigation start to the day's figures shown and to its first point drawn (fresh context)."""
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        page.goto(url + "/")
        page.wait_for_function("window.pvsim && window.pvsim.firstDataAt() !== null", timeout=30_000)
        value: Any = page.evaluate("[window.pvsim.firstNumbersAt(), window.pvsim.firstDataAt()]")
        return float(value[0]), float(value[1])
    finally:
        context.close()


def points(page: Page) -> int:
    value: Any = page.evaluate("window.pvsim ? window.pvsim.plottedPoints() : 0")
    return int(value)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def describe(values: list[float]) -> str:
    return (f"median {statistics.median(values):.0f} ms, p90 {percentile(values, 90):.0f} ms, "
            f"p99 {percentile(values, 99):.0f} ms, max {max(values):.0f} ms (n={len(values)})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--speed", default="720", help="the meter's --speed (default 720: a day in two minutes)")
    parser.add_argument("--date", default="2026-06-21", help="local day to run (default 2026-06-21)")
    parser.add_argument("--loads", type=int, default=5, help="fresh page loads timed mid-day and at the end")
    parser.add_argument("--screenshots", type=Path, help="save dashboard-running.png and dashboard-finished.png here")
    parser.add_argument("--grid-wait-s", type=float, default=0.0,
                        help="before the finished screenshot, wait up to this long for the live grid to catch up")
    args = parser.parse_args(argv)

    vhost = f"pvsim-bench-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    amqp_url = url_for_vhost(vhost, BROKER_URL)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="pvsim-dashboard-") as tmp, \
                serve_api(amqp_url, Path(tmp) / "api") as api, sync_playwright() as playwright:
            probe = Probe(amqp_url)
            probe.start()
            probe.ready.wait(30)
            browser = launch_chromium(playwright)
            context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
            page = context.new_page()
            page.goto(api.url + "/")
            page.wait_for_selector("#connection.badge-ok", timeout=30_000)
            live_from = time.time() * 1000
            out = Path(tmp) / "out"
            processes.append(start_service("pv_simulator", amqp_url, "--exit-when-done", "--output-dir", str(out),
                                           log_path=Path(tmp) / "pv.log"))
            started = time.monotonic()
            processes.append(start_service("meter", amqp_url, "--date", args.date, "--speed", args.speed,
                                           log_path=Path(tmp) / "meter.log"))
            print(f"day {args.date} at speed {args.speed}; service {api.url}", flush=True)

            while points(page) < INTERVALS_PER_DAY // 2:
                if time.monotonic() - started > 900:
                    raise RuntimeError("the day did not reach noon within 15 minutes")
                time.sleep(0.2)
            if args.screenshots:
                args.screenshots.mkdir(parents=True, exist_ok=True)
                page.click("#run-assignment")  # a simulation in the list, pushed back through /ws/live
                page.wait_for_selector("#simulations tr", timeout=60_000)
                page.screenshot(path=str(args.screenshots / "dashboard-running.png"))
            shown = points(page)
            mid_day = [first_data_ms(browser, api.url) for _ in range(args.loads)]
            print(f"first data, mid-day ({shown} intervals on the page when the loads began):", flush=True)
            print(f"  figures {describe([n for n, _ in mid_day])}")
            print(f"  chart   {describe([c for _, c in mid_day])}", flush=True)

            page.wait_for_selector("#run-status.badge-ok", timeout=900_000)
            elapsed = time.monotonic() - started
            for process in processes:
                process.wait(timeout=120)
            finished = [first_data_ms(browser, api.url) for _ in range(args.loads)]
            print(f"first data, complete day ({INTERVALS_PER_DAY} intervals):")
            print(f"  figures {describe([n for n, _ in finished])}")
            print(f"  chart   {describe([c for _, c in finished])}", flush=True)

            drawn: list[list[float]] = page.evaluate("window.pvsim.drawn()")
            first_drawn: dict[int, float] = {}
            for key, at in drawn:
                first_drawn.setdefault(int(key), at)
            latencies = [first_drawn[key] - arrived for (_meter, key), arrived in probe.arrivals.items()
                         if arrived > live_from and key in first_drawn]
            probe.stop()
            print(f"live latency, arrival at the service -> drawn on the page: {describe(latencies)}")
            print(f"day on the page after {elapsed:.1f} s (meter start to 'complete')")

            if args.screenshots:
                deadline = time.monotonic() + args.grid_wait_s
                while time.monotonic() < deadline and page.text_content("#grid-until"):
                    time.sleep(1)
                page.click("#run-assignment")
                page.wait_for_selector("#simulations tr:nth-child(2)", timeout=60_000)
                page.wait_for_timeout(500)
                page.screenshot(path=str(args.screenshots / "dashboard-finished.png"))
                print(f"screenshots in {args.screenshots}/")
            browser.close()
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
        rabbitmqctl("delete_vhost", vhost)
    return 0


if __name__ == "__main__":
    sys.exit(main())
