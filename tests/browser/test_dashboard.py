"""The live dashboard in a real browser (Debian's chromium via Playwright) against a real web service.

The service runs as ``python -m api`` on a free loopback port, the meter and the PV simulator as
processes, all on the test's own vhost of the real broker.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pika
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from common.topology import RESULTS_EXCHANGE
from tests.browser.harness import Watched, figures, points, serve_api, summary_figures, watch
from tests.conftest import start_service

pytestmark = [pytest.mark.integration, pytest.mark.browser]

DAY = "2026-06-21"
INTERVALS_PER_DAY = 1440  # the PV simulator's default 60-s results intervals


def open_dashboard(context: BrowserContext, url: str) -> Watched:
    watched = watch(context)
    watched.page.goto(url + "/")
    expect(watched.page.locator("#connection")).to_have_text("live", timeout=30_000)
    return watched


def assert_clean(watched: Watched, origin: str) -> None:
    assert watched.errors == [], watched.errors
    assert watched.outside(origin) == [], watched.outside(origin)


def test_page_loads_with_no_console_error_and_nothing_fetched_beyond_loopback(
        context: BrowserContext, amqp_url: str, tmp_path: Path) -> None:
    with serve_api(amqp_url, tmp_path / "api") as api:
        watched = open_dashboard(context, api.url)
        page = watched.page
        # the three charts are drawn (by the Plotly bundled with the service) and say what they wait for
        expect(page.locator("#power-chart .main-svg").first).to_be_visible(timeout=30_000)
        expect(page.locator("#voltage-chart .main-svg").first).to_be_visible()
        expect(page.locator("#loading-chart .main-svg").first).to_be_visible()
        expect(page.locator("#power-chart")).to_contain_text("waiting for the first interval")
        expect(page.locator("#power-chart")).to_contain_text("power [kW]")
        expect(page.locator("#power-chart")).to_contain_text("local time (Europe/Berlin)")
        expect(page.locator("#run-status")).to_have_text("no data")
        # a simulation launched from the page comes back through the push channel
        page.click("#run-assignment")
        row = page.locator("#simulations tr").first
        expect(row).to_contain_text("assignment", timeout=60_000)
        expect(row).to_contain_text("0.100")
        expect(row).to_contain_text("0.050")
        assert any(url.endswith("/dashboard/plotly-basic.min.js") for url in watched.requests)
        assert any(url.startswith("ws://127.0.0.1:") and url.endswith("/ws/live") for url in watched.requests)
        assert_clean(watched, api.url)


def wait_for(page: Page, check: str, timeout_s: float = 15.0) -> None:
    """Wait until the JavaScript expression ``check`` is true on ``page``."""
    page.wait_for_function(check, timeout=timeout_s * 1000)


def wait_figures(page: Page, expected: tuple[str, ...], timeout_s: float = 15.0) -> None:
    """Wait until the page's energy balance reads ``expected`` (it is drawn in the next animation frame)."""
    deadline = time.monotonic() + timeout_s
    while figures(page) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert figures(page) == expected


def sample(page: Page) -> tuple[int, tuple[str, ...], str]:
    return points(page), figures(page), page.text_content("#run-status") or ""


@pytest.mark.slow
def test_a_running_day_grows_on_the_page_and_ends_equal_to_its_summary(
        context: BrowserContext, amqp_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with serve_api(amqp_url, tmp_path / "api") as api:
        first = open_dashboard(context, api.url)
        pv = start_service("pv_simulator", amqp_url, "--exit-when-done", "--output-dir", str(out),
                           log_path=tmp_path / "pv.log")
        meter = start_service("meter", amqp_url, "--date", DAY, "--speed", "2000", log_path=tmp_path / "meter.log")
        samples: list[tuple[int, tuple[str, ...], str]] = []
        second: Watched | None = None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            samples.append(sample(first.page))
            if second is None and samples[-1][0] >= INTERVALS_PER_DAY // 3:
                second = open_dashboard(context, api.url)  # joins mid-day: fetch + live must merge
            if samples[-1][2] == "complete":
                break
            time.sleep(0.5)
        assert meter.wait(timeout=60) == 0, (tmp_path / "meter.log").read_text()
        assert pv.wait(timeout=60) == 0, (tmp_path / "pv.log").read_text()
        assert samples[-1][2] == "complete", (samples[-5:], api.log()[-3000:])

        running = [s for s in samples if s[2] == "running"]
        counts = [s[0] for s in running]
        assert counts == sorted(counts) and len(set(counts)) >= 5, counts  # grows, never shrinks
        assert len({s[1] for s in running}) >= 5  # the energy numbers change while the day runs

        summary = json.loads((out / "meter-1" / f"{DAY}.summary.json").read_text())
        expected = summary_figures(summary)
        expect(first.page.locator("#day-intervals")).to_have_text(f"{INTERVALS_PER_DAY:,}")
        wait_for(first.page, f"window.pvsim.plottedPoints() === {INTERVALS_PER_DAY}")
        wait_figures(first.page, expected)
        assert second is not None
        expect(second.page.locator("#run-status")).to_have_text("complete")
        # no gap and no double where the fetched day met the pushed intervals
        wait_for(second.page, f"window.pvsim.plottedPoints() === {INTERVALS_PER_DAY}")
        expect(second.page.locator("#day-intervals")).to_have_text(f"{INTERVALS_PER_DAY:,}")
        wait_figures(second.page, expected)

        # a past day from the database: one without data, then this one again
        page = first.page
        page.fill("#day", "2026-06-20")
        expect(page.locator("#run-status")).to_have_text("no data")
        wait_for(page, "window.pvsim.plottedPoints() === 0")
        expect(page.locator("#consumed-kwh")).to_have_text("–")
        page.fill("#day", DAY)
        expect(page.locator("#run-status")).to_have_text("complete")
        wait_for(page, f"window.pvsim.plottedPoints() === {INTERVALS_PER_DAY}")
        wait_figures(page, expected)
        for watched in (first, second):
            assert_clean(watched, api.url)


def publish_intervals(amqp_url: str, intervals: list[dict[str, object]]) -> None:
    """Publish interval results (and run-complete notices) to ``pvsim.results`` as the PV simulator does."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        channel.exchange_declare(RESULTS_EXCHANGE, "topic", durable=True)
        for body in intervals:
            kind = "run" if "run_id" in body else "interval"
            channel.basic_publish(RESULTS_EXCHANGE, f"result.{body['meter_id']}.{kind}", json.dumps(body),
                                  pika.BasicProperties(delivery_mode=2, content_type="application/json"))
    finally:
        connection.close()


def result(meter_id: str, start: str, meter_kw: float, pv_kw: float, import_kw: float, export_kw: float
           ) -> dict[str, object]:
    return {"schema": 1, "meter_id": meter_id, "interval_start": start, "interval_s": 60, "readings": 60,
            "meter_power_kw": meter_kw, "pv_power_kw": pv_kw, "net_power_kw": round(meter_kw - pv_kw, 7),
            "import_power_kw": import_kw, "export_power_kw": export_kw}


def test_choosing_a_meter_shows_its_stored_day_and_its_balance(
        context: BrowserContext, amqp_url: str, tmp_path: Path) -> None:
    with serve_api(amqp_url, tmp_path / "api") as api:
        # meter-2 on 2026-06-20 (net changes sign inside the intervals: import and export both > 0), meter-1 later
        publish_intervals(amqp_url, [
            result("meter-2", "2026-06-19T22:00:00Z", 3.0, 0.0, 3.0, 0.0),
            result("meter-2", "2026-06-20T10:00:00Z", 2.0, 2.5, 0.7, 1.2),
            result("meter-2", "2026-06-20T10:01:00Z", 1.5, 3.0, 0.0, 1.5),
            result("meter-1", "2026-06-21T08:00:00Z", 1.0, 0.5, 0.5, 0.0),
        ])
        deadline = time.monotonic() + 60
        while len(httpx.get(f"{api.url}/api/meters").json()) < 2:
            assert time.monotonic() < deadline, f"the results were not stored:\n{api.log()}"
            time.sleep(0.2)
        watched = open_dashboard(context, api.url)
        page = watched.page
        # it follows the meter that reported last, on that interval's local day
        expect(page.locator("#meter")).to_have_value("meter-1")
        expect(page.locator("#day")).to_have_value(DAY)
        wait_for(page, "window.pvsim.plottedPoints() === 1")
        page.select_option("#meter", "meter-2")
        expect(page.locator("#day")).to_have_value("2026-06-20")
        wait_for(page, "window.pvsim.plottedPoints() === 3")
        expect(page.locator("#follow")).to_have_text("Follow live")
        # energies: mean x 60 readings x 1 s; consumed 6.5 kW·min, PV 5.5, imported 3.7, exported 2.7
        consumed, pv, imported, exported = 6.5 / 60, 5.5 / 60, 3.7 / 60, 2.7 / 60
        wait_figures(page, (f"{consumed:.1f}", f"{pv:.1f}", f"{imported:.1f}", f"{exported:.1f}",
                            f"{100 * (pv - exported) / pv:.1f}", f"{100 * (consumed - imported) / consumed:.1f}"))
        expect(page.locator("#run-status")).to_have_text("running")  # no run-complete notice for it
        # a run covering the day completes: its 86,400 readings against the 180 the intervals hold
        publish_intervals(amqp_url, [{
            "schema": 1, "meter_id": "meter-2", "run_id": "r", "meters": ["meter-2"], "readings": 86_400,
            "interval_s": 1, "first_timestamp": "2026-06-19T22:00:00Z", "last_timestamp": "2026-06-20T21:59:59Z"}])
        expect(page.locator("#run-status")).to_have_text("incomplete: 86,220 readings missing")
        page.fill("#day", "2026-06-19")
        page.fill("#day", "2026-06-20")  # fetched again: the same from the service's answer
        expect(page.locator("#run-status")).to_have_text("incomplete: 86,220 readings missing")
        assert_clean(watched, api.url)


def battery_day(meter_id: str, first: int, count: int, soc_kwh: float) -> tuple[list[dict[str, object]], float]:
    """15-minute intervals of a sunny day on ``DAY`` from the ``first``-th one, with a 5 kWh battery charging
    every surplus and covering every deficit up to 2.5 kW (95 % one way); returns the bodies and the end SoC."""
    import math

    bodies = []
    for k in range(first, first + count):
        hour = (k + 0.5) / 4  # local (CEST) hour of the interval's middle; 22:00Z is local midnight
        meter_kw = 0.4 + (1.5 if 7 <= hour < 8 or 18 <= hour < 21 else 0.0)
        pv_kw = max(0.0, 5.0 * math.sin(math.pi * (hour - 5.5) / 15)) if 5.5 < hour < 20.5 else 0.0
        surplus_kw = pv_kw - meter_kw
        if surplus_kw > 0:
            battery_kw = min(surplus_kw, 2.5, (5.0 - soc_kwh) / (0.95 * 0.25))
            soc_kwh += 0.95 * battery_kw * 0.25
        else:
            battery_kw = -min(-surplus_kw, 2.5, 0.95 * soc_kwh / 0.25)
            soc_kwh += battery_kw * 0.25 / 0.95
        net_kw = meter_kw - pv_kw + battery_kw
        seconds = 22 * 3600 + k * 900
        start = f"2026-06-{20 + seconds // 86_400}T{seconds % 86_400 // 3600:02d}:{seconds % 3600 // 60:02d}:00Z"
        bodies.append({"schema": 1, "meter_id": meter_id, "interval_start": start, "interval_s": 900,
                       "readings": 900, "meter_power_kw": round(meter_kw, 7), "pv_power_kw": round(pv_kw, 7),
                       "net_power_kw": round(net_kw, 7), "import_power_kw": round(max(net_kw, 0.0), 7),
                       "export_power_kw": round(max(-net_kw, 0.0), 7), "battery_power_kw": round(battery_kw, 7),
                       "battery_soc_kwh": round(soc_kwh, 7)})
    return bodies, soc_kwh


def test_a_meter_with_a_battery_shows_its_power_and_soc_on_a_second_axis_and_one_without_does_not(
        context: BrowserContext, amqp_url: str, tmp_path: Path) -> None:
    with serve_api(amqp_url, tmp_path / "api") as api:
        morning, soc_kwh = battery_day("meter-2", 0, 60, 1.0)  # until 17:00 local
        publish_intervals(amqp_url, [result("meter-1", "2026-06-21T08:00:00Z", 1.0, 0.5, 0.5, 0.0), *morning])
        deadline = time.monotonic() + 60
        while len(httpx.get(f"{api.url}/api/meters").json()) < 2:
            assert time.monotonic() < deadline, f"the results were not stored:\n{api.log()}"
            time.sleep(0.2)
        watched = open_dashboard(context, api.url)
        page = watched.page
        expect(page.locator("#meter")).to_have_value("meter-2")
        wait_for(page, "window.pvsim.plottedPoints() === 60")
        chart = page.locator("#power-chart")
        expect(chart).to_contain_text("battery (+ charging)")
        expect(chart).to_contain_text("battery state of charge [kWh]")
        traces = "document.getElementById('power-chart').data"
        assert page.evaluate(f"{traces}.length") == 6
        assert page.evaluate(f"{traces}[4].y") == [body["battery_power_kw"] for body in morning]
        assert page.evaluate(f"{traces}[5].y") == [body["battery_soc_kwh"] for body in morning]
        assert page.evaluate(f"{traces}[5].yaxis") == "y2"
        # the evening arrives live: the battery's traces grow with the others
        evening, _ = battery_day("meter-2", 60, 36, soc_kwh)
        publish_intervals(amqp_url, evening)
        wait_for(page, "window.pvsim.plottedPoints() === 96", timeout_s=30)
        wait_for(page, f"{traces}[5].y.length === 96 && {traces}[4].y.length === 96")
        page.screenshot(path=str(tmp_path / "battery.png"), full_page=True)
        # a meter without a battery: the chart as before, no battery trace or axis
        page.select_option("#meter", "meter-1")
        wait_for(page, "window.pvsim.plottedPoints() === 1")
        assert page.evaluate(f"{traces}.length") == 4
        expect(chart).not_to_contain_text("battery")
        assert_clean(watched, api.url)


def test_a_hosting_capacity_run_shows_its_figure(context: BrowserContext, amqp_url: str, tmp_path: Path) -> None:
    with serve_api(amqp_url, tmp_path / "api") as api:
        watched = open_dashboard(context, api.url)
        page = watched.page
        expect(page.locator("#hosting")).to_be_hidden()
        page.click("#run-hosting")
        expect(page.locator("#simulations tr").first).to_contain_text("hosting-capacity", timeout=120_000)
        expect(page.locator("#hosting")).to_be_visible()
        expect(page.locator("#hosting-caption")).to_contain_text("hosting capacity P5 / P50 / P95")
        expect(page.locator("#hosting-caption")).to_contain_text("200 scenarios")
        expect(page.locator("#simulations tr").first).to_be_visible()  # the figure leaves room for the table
        wait_for(page, "document.getElementById('hosting-figure').naturalWidth > 1000", timeout_s=30)
        page.screenshot(path=str(tmp_path / "hosting.png"), full_page=True)
        assert_clean(watched, api.url)
