"""What the browser tests and the dashboard benchmark share: chromium, a served web service, a watched page.

Chromium is Debian's (``/usr/bin/chromium``; ``playwright install`` cannot download browsers
here), driven by Playwright's Python package. The web service runs as ``python -m api`` on a
free loopback port with its own SQLite file, against the caller's vhost on the real broker.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, Request, WebSocket

from tests.conftest import start_service

CHROMIUM = os.environ.get("PVSIM_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 800}
FIGURES = ("consumed-kwh", "pv-kwh", "imported-kwh", "exported-kwh", "self-consumption", "self-sufficiency")
"""Element ids of the energy balance on the page, in the order of :data:`SUMMARY_KEYS`."""
SUMMARY_KEYS = ("consumed_kwh", "pv_kwh", "imported_kwh", "exported_kwh", "self_consumption_percent",
                "self_sufficiency_percent")
"""The same figures' keys in the PV simulator's ``<day>.summary.json``."""


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's chromium, headless, with nothing that phones home."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ServedApi:
    """A running ``python -m api``: its base URL, process and log file."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        """The service's log so far (for assertion messages)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextlib.contextmanager
def serve_api(amqp_url: str, workdir: Path, timeout_s: float = 120.0, **settings: str) -> Iterator[ServedApi]:
    """Start ``python -m api`` on a free port (SQLite in ``workdir``); yield once ``/api/health`` answers 200
    and its live feed consumes (its queue is bound: results published from then on reach it).

    ``settings`` become ``PVSIM_*`` variables (e.g. ``stats_interval_s="0.5"``). Raises
    ``RuntimeError`` with the log if it exits or is not ready within ``timeout_s``.
    """
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "api.log"
    settings = {"stats_interval_s": "0.5", **settings}
    process = start_service("api", amqp_url, "--port", str(port), "--output-dir", str(workdir),
                            log_path=log_path, **settings)
    served = ServedApi(f"http://127.0.0.1:{port}", process, log_path)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"python -m api exited with {process.returncode}:\n{served.log()}")
            with contextlib.suppress(httpx.HTTPError):
                health = httpx.get(f"{served.url}/api/health", timeout=2)
                if health.status_code == 200 and health.json()["live"]["broker"] == "connected":
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"python -m api not ready after {timeout_s:.0f} s:\n{served.log()}")
            time.sleep(0.2)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Watched:
    """A page with every request URL (HTTP and WebSocket) and every console error or page error recorded."""

    page: Page
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def outside(self, origin: str) -> list[str]:
        """Requested URLs not served by ``origin`` (``http://127.0.0.1:<port>``) or its WebSocket twin."""
        ws_origin = origin.replace("http://", "ws://", 1)
        return [url for url in self.requests
                if not (url.startswith((origin + "/", ws_origin + "/")) or url.startswith("data:"))]


def watch(context: BrowserContext) -> Watched:
    """A new page of ``context`` (1280x800) whose requests and console errors are recorded."""
    page = context.new_page()
    watched = Watched(page)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.errors.append(f"console: {message.text} ({message.location})")

    def on_request(request: Request) -> None:
        watched.requests.append(request.url)

    def on_websocket(socket_: WebSocket) -> None:
        watched.requests.append(socket_.url)

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.errors.append(f"page error: {error}"))
    page.on("request", on_request)
    page.on("websocket", on_websocket)
    return watched


def figures(page: Page) -> tuple[str, ...]:
    """The energy balance as the page shows it: six texts in the order of :data:`FIGURES`."""
    return tuple(page.text_content(f"#{name}") or "" for name in FIGURES)


def points(page: Page) -> int:
    """Points drawn in the power chart (one per interval of the shown day)."""
    value: Any = page.evaluate("window.pvsim ? window.pvsim.plottedPoints() : 0")
    return int(value)


def summary_figures(summary: dict[str, Any]) -> tuple[str, ...]:
    """A ``summary.json``'s figures as the page should show them: one decimal, ``–`` for a null ratio."""
    return tuple("–" if summary[key] is None else f"{summary[key]:.1f}" for key in SUMMARY_KEYS)
