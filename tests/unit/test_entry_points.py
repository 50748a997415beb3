"""Every command a user runs answers ``--help`` with its usage and exit code 0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ["meter", "pv_simulator", "pv_simulator.report", "pv_simulator.dead_letters", "grid", "batch", "api",
            "benchmarks.run", "benchmarks.scale", "benchmarks.floor", "benchmarks.grid", "benchmarks.batch",
            "benchmarks.api", "benchmarks.dashboard"]


@pytest.mark.parametrize("module", COMMANDS)
def test_help_prints_the_usage_and_exits_0(module: str) -> None:
    done = subprocess.run([sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage:"), done.stdout[:300]
    assert "Traceback" not in done.stderr
