"""``pip install ".[api]"`` into a fresh venv outside the checkout, then the ``pvsim`` command from another folder.

The new venv sees the running interpreter's site-packages (a ``.pth`` file), so pip resolves the project's
dependencies and the ``api`` extra against what is installed there, offline (``--no-index``) and in seconds:
a dependency the running environment lacks, or a range its pinned version leaves, fails the install. It
proves the packaging itself: dependency metadata, the package list, the package data (reference PV curve,
migrations, dashboard) and the console script, imported from the venv's site-packages, not the checkout.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOT_COPIED = shutil.ignore_patterns(".git", ".venv", "venv", "output", "tests", "docs", "examples", "benchmarks",
                                    "build", "*.egg-info", "__pycache__", ".mypy_cache", ".ruff_cache")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with pvsim installed from a copy of the checkout; returns its ``bin`` directory."""
    base = tmp_path_factory.mktemp("install")
    shutil.copytree(ROOT, base / "src", ignore=NOT_COPIED)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    parents = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib, "_pvsim_test_parent.pth").write_text("\n".join(sorted(parents)) + "\n")
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-build-isolation", "--no-index",
                           f"{base / 'src'}[api]"], cwd=base, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return venv / "bin"


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_pvsim_help_from_another_folder(installed: Path, tmp_path: Path) -> None:
    done = run([str(installed / "pvsim"), "--help"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "pv-simulator" in done.stdout and "(python -m batch)" in done.stdout


def test_pvsim_meter_help_is_python_m_meter_help(installed: Path, tmp_path: Path) -> None:
    done = run([str(installed / "pvsim"), "meter", "--help"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == run([sys.executable, "-m", "meter", "--help"], ROOT).stdout


def test_the_installed_code_is_imported_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    done = run([str(installed / "python"), "-c", "import meter, models.pv.reference as c; print(meter.__file__)"],
               tmp_path)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(installed.parent), done.stdout


def test_pvsim_batch_writes_a_day_with_the_shipped_reference_curve(installed: Path, tmp_path: Path) -> None:
    done = run([str(installed / "pvsim"), "batch", "--date", "2026-06-21", "--days", "1", "--meters", "1",
                "--workers", "1", "--interval-s", "60", "--pv-model", "reference", "--output-dir", "out"], tmp_path)
    assert done.returncode == 0, done.stderr
    days = list((tmp_path / "out").glob("*/2026-06-21.csv"))
    assert len(days) == 1, done.stderr
    rows = days[0].read_text().splitlines()
    assert len(rows) == 1 + 24 * 60  # header + one row a minute
    report = run([str(installed / "pvsim"), "report", "out"], tmp_path)
    assert report.returncode == 0, report.stderr
    assert days[0].parent.name in report.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow  # the service imports pandapower and migrates: 10-40 s
def test_pvsim_api_serves_its_migrations_and_dashboard_from_the_installed_package(installed: Path,
                                                                                  tmp_path: Path) -> None:
    """The migrations and the dashboard's files are package data: the service starts from another folder."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["AMQP_URL"] = f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F"  # no broker: the live feed only retries
    log = (tmp_path / "api.log").open("w")
    service = subprocess.Popen([str(installed / "pvsim"), "api", "--port", str(port), "--output-dir", "out"],
                               cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        health = None
        while health is None and service.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5) as answer:
                    health = answer.status
            except OSError:
                time.sleep(0.5)
        assert health == 200, (tmp_path / "api.log").read_text()[-3000:]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert b"plotly-basic.min.js" in page.read()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/dashboard/plotly-basic.min.js", timeout=10) as js:
            assert len(js.read()) > 1_000_000  # the vendored bundle, from the installed package
        assert (tmp_path / "out" / "api.sqlite3").exists()  # migrated where --output-dir says
    finally:
        service.terminate()
        service.wait(timeout=60)
        log.close()
