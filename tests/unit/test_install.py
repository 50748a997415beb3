"""``pip install .`` into a fresh virtualenv outside the checkout, then the ``pvsim`` command from another folder.

The new venv reuses the running interpreter's site-packages (a ``.pth`` file) for the dependencies and
pip/setuptools, so the install is offline and takes seconds: ``--no-deps --no-build-isolation --no-index``.
What it proves is the packaging itself: the package list, the package data (reference PV curve) and the
console script, imported from the venv's site-packages and not from the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
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
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                           "--no-index", str(base / "src")], cwd=base, capture_output=True, text=True, timeout=300)
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
