"""Meter progress: a log line per emulated hour off a terminal, a bar on one; JSON logs on request."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, date, datetime, timedelta

import pytest

from meter.progress import Progress
from meter.settings import MeterSettings
from tests.expect import plan_for


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_off_a_terminal_progress_logs_once_per_emulated_hour(caplog: pytest.LogCaptureFixture) -> None:
    plan = plan_for(date(2026, 6, 21), meters=2, interval_s=60)
    progress = Progress(plan, stream=io.StringIO())
    with caplog.at_level(logging.INFO, logger="meter.progress"):
        for confirmed in range(0, plan.total + 1, 10):
            progress.update(confirmed)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 24
    assert lines[0].startswith("emulated 2026-06-21 00:59 reached: 120 of 2880 readings confirmed")
    assert "2026-06-21 23:59" in lines[-1]


def test_on_a_terminal_progress_draws_a_bar_with_the_emulated_time() -> None:
    plan = plan_for(date(2026, 6, 21), interval_s=10)
    terminal = FakeTerminal()
    progress = Progress(plan, stream=terminal)
    progress.update(4320)
    progress.update(plan.total)
    progress.close()
    text = terminal.getvalue()
    assert "8.64k/8.64k" in text and "2026-06-21 23:59" in text


def test_log_json_writes_one_json_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    MeterSettings(log_json=True).configure_logging()
    logging.getLogger("meter.test").warning("checked %d readings", 5)
    logging.basicConfig(force=True)  # leave logging as pytest expects it
    record = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert record["level"] == "WARNING" and record["message"] == "checked 5 readings"
    logged_at = datetime.fromisoformat(record["time"])  # ISO 8601, UTC
    assert logged_at.utcoffset() == timedelta(0)
    assert abs((datetime.now(UTC) - logged_at).total_seconds()) < 60
