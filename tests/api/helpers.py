"""Helpers of the web service's tests: storing live results directly, interval messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from api.db import queries
from api.live.consumer import interval_row
from api.services import Services
from common.schema import IntervalResult


def interval(meter_id: str, start: datetime, meter_kw: float = 2.0, pv_kw: float = 0.5,
             interval_s: int = 60, readings: int = 60, battery_kw: float | None = None,
             soc_kwh: float | None = None) -> IntervalResult:
    """An interval result as the PV simulator publishes it (with a battery if ``battery_kw`` is given)."""
    net_kw = meter_kw - pv_kw + (battery_kw or 0.0)
    battery = {} if battery_kw is None else {"battery_power_kw": battery_kw, "battery_soc_kwh": soc_kwh}
    return IntervalResult.model_validate({
        "schema": 1, "meter_id": meter_id, "interval_start": start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "interval_s": interval_s, "readings": readings, "meter_power_kw": meter_kw, "pv_power_kw": pv_kw,
        "net_power_kw": round(net_kw, 6), "import_power_kw": round(max(net_kw, 0.0), 6),
        "export_power_kw": round(max(-net_kw, 0.0), 6), **battery,
    }, strict=False)


def store_intervals(client: TestClient, results: list[IntervalResult]) -> None:
    """Store interval results as the consumer would."""
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    rows = [interval_row(result, now) for result in results]
    services.db.run(lambda session: queries.upsert_intervals(session, rows))


def day_of_intervals(meter_id: str, first: datetime, count: int, interval_s: int = 60, **kwargs: Any
                     ) -> list[IntervalResult]:
    """``count`` consecutive intervals from ``first``, meter power rising 0.01 kW per interval."""
    return [interval(meter_id, first + timedelta(seconds=k * interval_s), meter_kw=1.0 + 0.01 * k,
                     interval_s=interval_s, **kwargs) for k in range(count)]


def results_queue(client: TestClient) -> str:
    """Name of the service's own queue on ``pvsim.results``."""
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    return services.consumer.queue.name
