"""``python -m api`` settings: flags win over PVSIM_* variables, bad values end with one line and exit 2."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from api.__main__ import main
from api.settings import ApiSettings
from common.cli import parse_settings
from tests.api.conftest import POSTGRES_URL
from tests.conftest import ROOT


def test_flags_and_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for key in ("PVSIM_API_HOST", "PVSIM_API_PORT", "PVSIM_DATABASE_URL", "PVSIM_API_TOKEN", "PVSIM_OUTPUT_DIR"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PORT", "1234")  # a PaaS variable must not be taken for ours
    monkeypatch.setenv("PVSIM_API_PORT", "9001")
    monkeypatch.setenv("PVSIM_API_TOKEN", "s3cret")
    settings = parse_settings(ApiSettings, ["--host", "0.0.0.0", "--output-dir", str(tmp_path)], "api", "")
    assert (settings.host, settings.port, settings.token()) == ("0.0.0.0", 9001, "s3cret")
    assert settings.resolved_database_url() == f"sqlite:///{tmp_path.resolve() / 'api.sqlite3'}"
    assert parse_settings(ApiSettings, ["--port", "9002"], "api", "").port == 9002
    assert "s3cret" not in repr(settings)


def test_the_token_can_come_from_a_file_so_that_ps_does_not_show_it(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("PVSIM_API_TOKEN", raising=False)
    token_file = tmp_path / "token"
    token_file.write_text("s3cret\n")
    monkeypatch.setenv("PVSIM_API_TOKEN_FILE", str(token_file))
    assert parse_settings(ApiSettings, [], "api", "").token() == "s3cret"
    monkeypatch.delenv("PVSIM_API_TOKEN_FILE")
    assert parse_settings(ApiSettings, ["--api-token-file", str(token_file)], "api", "").token() == "s3cret"


@pytest.mark.parametrize(("args", "message"), [
    (["--database-url", "mysql://db/x"], "--database-url / PVSIM_DATABASE_URL: unsupported database 'mysql'"),
    (["--port", "0"], "--port / PVSIM_API_PORT"),
    (["--feeder", "atlantis"], "--feeder / PVSIM_FEEDER: unknown feeder 'atlantis'"),
    (["--api-token-file", "/nonexistent/token"], "cannot read the token file /nonexistent/token"),
    (["--allowed-origins", "evil.example"], "--allowed-origins / PVSIM_ALLOWED_ORIGINS: Invalid origin"),
])
def test_bad_settings_end_with_one_line_and_exit_2(args: list[str], message: str) -> None:
    done = subprocess.run([sys.executable, "-m", "api", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_an_unreachable_database_at_start_ends_with_one_error_line_and_exit_1(tmp_path) -> None:  # type: ignore[no-untyped-def]
    done = subprocess.run([sys.executable, "-m", "api", "--output-dir", str(tmp_path), "--database-url",
                           "postgresql+psycopg://nobody@127.0.0.1:1/pvsim", "--database-timeout-s", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert "ERROR api: database postgresql+psycopg://nobody@127.0.0.1:1/pvsim unreachable" in last
    assert "PVSIM_DATABASE_URL" in last


def test_each_service_has_its_own_results_queue_by_default_and_the_name_is_a_setting(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PVSIM_RESULTS_QUEUE", raising=False)
    monkeypatch.setattr("socket.gethostname", lambda: "web host/1")
    one, two = (parse_settings(ApiSettings, ["--port", port], "api", "") for port in ("8001", "8002"))
    assert (one.results_queue_name(), two.results_queue_name()) == ("pvsim.api.web-host-1.8001",
                                                                    "pvsim.api.web-host-1.8002")
    monkeypatch.setenv("PVSIM_RESULTS_QUEUE", "pvsim.api.dashboard")
    assert parse_settings(ApiSettings, [], "api", "").results_queue_name() == "pvsim.api.dashboard"
    named = parse_settings(ApiSettings, ["--results-queue", "mine", "--results-queue-expires-s", "600"], "api", "")
    assert (named.results_queue_name(), named.results_queue_expires_s) == ("mine", 600)
    with pytest.raises(SystemExit):
        parse_settings(ApiSettings, ["--results-queue", "a queue with spaces"], "api", "")


@pytest.mark.postgres
def test_a_database_that_does_not_exist_ends_at_once_with_one_line_saying_what_to_do_and_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = make_url(POSTGRES_URL).set(database=f"pvsim_missing_{uuid.uuid4().hex[:8]}")
    url = missing.render_as_string(hide_password=False)
    code = main(["--output-dir", str(tmp_path), "--database-url", url, "--database-timeout-s", "5"])
    error = capsys.readouterr().err
    assert code == 2, error
    assert "retrying" not in error  # permanent: not the retry for --database-timeout-s
    assert len(error.strip().splitlines()) == 1, error
    assert f'database "{missing.database}" does not exist' in error
    assert f"createdb -h HOST -U USER {missing.database}" in error and "PVSIM_DATABASE_URL" in error
