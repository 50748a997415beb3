"""Unit tests of the settings and their command line (common/cli.py, */settings.py)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from common.cli import env_name, flag_name, parse_settings
from common.settings import DEFAULT_AMQP_URL
from meter.settings import MeterSettings
from pv_simulator.settings import PvSimulatorSettings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No PVSIM_* or AMQP_URL from the outer environment."""
    for name in list(os.environ):
        if name.upper().startswith("PVSIM_") or name.upper() == "AMQP_URL":
            monkeypatch.delenv(name)


def meter(*argv: str) -> MeterSettings:
    return parse_settings(MeterSettings, list(argv), "meter", "test")


def pv(*argv: str) -> PvSimulatorSettings:
    return parse_settings(PvSimulatorSettings, list(argv), "pv_simulator", "test")


def test_meter_defaults():
    s = meter()
    assert s.amqp_url == DEFAULT_AMQP_URL == "amqp://guest:guest@localhost:5672/%2F"
    assert s.timezone == "Europe/Berlin"
    assert str(s.tz) == "Europe/Berlin"
    assert s.broker_timeout_s == 120.0
    assert s.log_level == "INFO"
    assert s.date is None
    assert s.days == 1
    assert s.speed == math.inf
    assert s.interval_s == 1
    assert s.meters == 1
    assert s.seed == 0
    assert s.model == "random-walk"
    assert s.meter_ids() == ["meter-1"]


def test_pv_simulator_defaults():
    s = pv()
    assert s.amqp_url == DEFAULT_AMQP_URL
    assert s.output_dir == Path("output")
    assert s.exit_when_done is False
    assert s.timezone == "Europe/Berlin"


def test_environment_variables_are_read(monkeypatch):
    monkeypatch.setenv("PVSIM_DAYS", "3")
    monkeypatch.setenv("AMQP_URL", "amqp://u:p@broker:5672/%2F")
    monkeypatch.setenv("PVSIM_METERS", "4")
    monkeypatch.setenv("PVSIM_DATE", "2026-10-25")
    monkeypatch.setenv("PVSIM_TIMEZONE", "America/New_York")
    s = meter()
    assert s.days == 3
    assert s.amqp_url == "amqp://u:p@broker:5672/%2F"
    assert s.meters == 4
    assert s.meter_ids() == ["meter-1", "meter-2", "meter-3", "meter-4"]
    assert s.date == date(2026, 10, 25)
    assert s.first_day() == date(2026, 10, 25)
    assert s.timezone == "America/New_York"


def test_pv_simulator_reads_its_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PVSIM_OUTPUT_DIR", str(tmp_path))
    monkeypatch.setenv("AMQP_URL", "amqps://broker/vh")
    s = pv()
    assert s.output_dir == tmp_path
    assert s.amqp_url == "amqps://broker/vh"


def test_flags_win_over_environment(monkeypatch):
    monkeypatch.setenv("PVSIM_DAYS", "3")
    monkeypatch.setenv("AMQP_URL", "amqp://env/%2F")
    monkeypatch.setenv("PVSIM_SPEED", "1")
    s = meter("--days", "5", "--amqp-url", "amqp://flag/%2F", "--speed", "max")
    assert s.days == 5
    assert s.amqp_url == "amqp://flag/%2F"
    assert s.speed == math.inf


@pytest.mark.parametrize(("text", "value"), [("max", math.inf), ("MAX", math.inf), (" Max ", math.inf),
                                             ("720", 720.0), ("1", 1.0), ("0.5", 0.5)])
def test_speed_flag(text, value):
    assert meter("--speed", text).speed == value


def test_speed_from_the_environment(monkeypatch):
    monkeypatch.setenv("PVSIM_SPEED", "max")
    assert meter().speed == math.inf
    monkeypatch.setenv("PVSIM_SPEED", "720")
    assert meter().speed == 720.0


def test_exit_when_done_flag():
    assert pv("--exit-when-done").exit_when_done is True


@pytest.mark.parametrize(("text", "value"), [("true", True), ("1", True), ("false", False), ("0", False)])
def test_exit_when_done_from_the_environment(monkeypatch, text, value):
    monkeypatch.setenv("PVSIM_EXIT_WHEN_DONE", text)
    assert pv().exit_when_done is value


def test_log_level_is_case_insensitive():
    assert meter("--log-level", "debug").log_level == "DEBUG"


def test_other_flags_are_parsed():
    s = meter("--date", "2026-03-29", "--interval-s", "60", "--seed", "9", "--model", "uniform",
              "--timezone", "Asia/Kolkata", "--broker-timeout-s", "2.5", "--meters", "2")
    assert (s.date, s.interval_s, s.seed, s.model, s.timezone, s.broker_timeout_s, s.meters) == (
        date(2026, 3, 29), 60, 9, "uniform", "Asia/Kolkata", 2.5, 2)


def test_flag_and_env_names():
    assert flag_name("exit_when_done") == "--exit-when-done"
    assert env_name(MeterSettings, "amqp_url") == "AMQP_URL"
    assert env_name(MeterSettings, "interval_s") == "PVSIM_INTERVAL_S"
    assert env_name(PvSimulatorSettings, "output_dir") == "PVSIM_OUTPUT_DIR"


def test_settings_are_frozen():
    s = meter()
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError for a frozen instance
        s.days = 2  # type: ignore[misc]
    assert s.days == 1


def expect_usage_error(capsys, call, flag: str) -> str:
    with pytest.raises(SystemExit) as exited:
        call()
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert flag in lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["--date", "2026-13-01"], "--date"),
        (["--speed", "-3"], "--speed"),
        (["--speed", "0"], "--speed"),
        (["--speed", "nan"], "--speed"),
        (["--speed", "fast"], "--speed"),
        (["--timezone", "Mars/Base"], "--timezone"),
        (["--meters", "0"], "--meters"),
        (["--meters", "1001"], "--meters"),
        (["--days", "0"], "--days"),
        (["--interval-s", "0"], "--interval-s"),
        (["--seed", "-1"], "--seed"),
        (["--model", "sine"], "--model"),
        (["--log-level", "LOUD"], "--log-level"),
        (["--amqp-url", "http://x"], "--amqp-url"),
        (["--broker-timeout-s", "0"], "--broker-timeout-s"),
    ],
)
def test_bad_meter_flag_exits_2_with_one_line_naming_it(capsys, argv, flag):
    line = expect_usage_error(capsys, lambda: meter(*argv), flag)
    assert line.startswith("meter: error: ")


def test_bad_environment_value_exits_2_naming_flag_and_variable(capsys, monkeypatch):
    monkeypatch.setenv("PVSIM_METERS", "0")
    line = expect_usage_error(capsys, meter, "--meters")
    assert "PVSIM_METERS" in line


def test_bad_amqp_url_in_environment_names_amqp_url(capsys, monkeypatch):
    monkeypatch.setenv("AMQP_URL", "http://x")
    line = expect_usage_error(capsys, pv, "--amqp-url")
    assert "AMQP_URL" in line
    assert "http://x" in line


def test_bad_pv_simulator_flag_exits_2(capsys):
    expect_usage_error(capsys, lambda: pv("--log-level", "LOUD"), "--log-level")


def test_meter_cli_with_an_invalid_date_exits_2_before_connecting():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PVSIM_") and k != "AMQP_URL"}
    done = subprocess.run([sys.executable, "-m", "meter", "--date", "2026-13-01"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "--date" in lines[0]


def test_pv_simulator_cli_help_mentions_output_dir():
    done = subprocess.run([sys.executable, "-m", "pv_simulator", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "--output-dir" in done.stdout
    assert "--exit-when-done" in done.stdout
    assert "PVSIM_OUTPUT_DIR" in done.stdout


def test_an_interval_that_does_not_divide_an_hour_is_refused(capsys) -> None:
    from common.cli import parse_settings
    from meter.settings import MeterSettings

    with pytest.raises(SystemExit) as exited:
        parse_settings(MeterSettings, ["--interval-s", "7"], "meter", "")
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--interval-s / PVSIM_INTERVAL_S" in err[0] and "divide 3600" in err[0]


def test_an_interval_that_does_not_fit_a_half_hour_clock_change_is_refused(capsys) -> None:
    from common.cli import parse_settings
    from meter.settings import MeterSettings

    argv = ["--date", "2024-04-06", "--days", "3", "--timezone", "Australia/Lord_Howe", "--interval-s", "3600"]
    with pytest.raises(SystemExit) as exited:
        parse_settings(MeterSettings, argv, "meter", "")
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--interval-s 3600 does not divide the local day 2024-04-07" in err[0]
    assert parse_settings(MeterSettings, [*argv[:-1], "1800"], "meter", "").interval_s == 1800


def test_the_longest_run_announces_a_valid_end_even_with_an_extra_autumn_hour() -> None:
    from datetime import UTC, datetime

    from common.schema import EndOfRun
    from meter.settings import MeterSettings

    plan = MeterSettings(date="2024-10-27", days=3660, interval_s=3600).plan()
    first = plan.local_days[0].start_s
    last = plan.local_days[-1].start_s + (plan.readings_per_day[-1] - 1) * plan.interval_s
    end = EndOfRun(schema=1, meter_id="meter-1", run_id="r", meters=["meter-1"], readings=plan.readings_per_meter,
                   interval_s=3600, first_timestamp=datetime.fromtimestamp(first, UTC),
                   last_timestamp=datetime.fromtimestamp(last, UTC))
    assert end.readings == plan.readings_per_meter


@pytest.mark.parametrize("kind", ["a file", "under a file"])
def test_an_output_dir_the_pv_simulator_cannot_write_in_exits_2_before_connecting(tmp_path, capsys, kind) -> None:
    from pv_simulator.__main__ import main

    (tmp_path / "file").write_text("not a folder")
    target = tmp_path / "file" if kind == "a file" else tmp_path / "file" / "out"
    assert main(["--output-dir", str(target), "--amqp-url", "amqp://guest:guest@127.0.0.1:1/%2F"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pv_simulator: error: --output-dir / PVSIM_OUTPUT_DIR:"), lines


def test_the_output_dir_check_creates_a_missing_folder_and_leaves_nothing_in_it(tmp_path) -> None:
    from store.durable import check_output_dir

    check_output_dir(tmp_path / "a" / "b")
    assert list((tmp_path / "a" / "b").iterdir()) == []


@pytest.mark.parametrize(
    ("first", "days"), [("2300-01-01", 1), ("9999-12-31", 1), ("1970-01-01", 1), ("2261-12-01", 60)]
)
def test_a_run_whose_days_leave_the_wire_contract_is_refused_before_any_work(first, days):
    from pydantic import ValidationError

    from models.run_parameters import RunParameters

    with pytest.raises(ValidationError, match="wire contract's range"):
        RunParameters(date=first, days=days)


def test_a_run_at_the_last_accepted_day_is_allowed():
    from models.run_parameters import RunParameters

    assert RunParameters(date="2261-12-30", days=1).days == 1
