"""The services start without the heavy libraries they need only for some settings: numba (the battery's
compiled dispatch), SciPy, pandas, pvlib and matplotlib cost seconds of CPU and about 100 MB each at every
start of the PV simulator and the meter (the 1 x 1 pipeline benchmark, issue #17)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("numba", "llvmlite", "scipy", "pandas", "pvlib", "matplotlib")


@pytest.mark.parametrize("service", ["pv_simulator.__main__", "meter.__main__"])
def test_a_service_imports_no_heavy_library_at_start(service: str) -> None:
    code = f"import sys, {service}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []


def test_the_battery_dispatch_loads_numba_only_when_called() -> None:
    code = ("import sys, numpy as np; from models.battery import BatterySpec, dispatch; "
            "before = 'numba' in sys.modules; "
            "d = dispatch(np.ones(3), np.full(3, 3.0), 3600, BatterySpec(capacity_kwh=5)); "
            "print(before, 'numba' in sys.modules, d.soc_kwh)")
    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert printed == ["False", "True", "5.0"]
