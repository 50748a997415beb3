"""pyproject.toml against the tree: every package listed, every pin inside its range, the pvsim command."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from pvsim.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
NOT_SHIPPED = {"tests", "benchmarks", "docs", "examples", "build", "output"}


def source_packages() -> set[str]:
    """Every directory with an ``__init__.py`` outside tests, benchmarks, docs and virtualenvs."""
    found = set()
    for init in ROOT.glob("*/**/__init__.py"):
        parts = init.relative_to(ROOT).parent.parts
        if parts[0] in NOT_SHIPPED or parts[0].startswith(".") or "venv" in parts[0] or "__pycache__" in parts:
            continue
        if (ROOT / parts[0] / "__init__.py").exists():
            found.add(".".join(parts))
    return found


def test_every_package_is_shipped_and_type_checked() -> None:
    packages = set(PYPROJECT["tool"]["setuptools"]["packages"])
    missing = source_packages() - packages
    assert not missing, f"add {sorted(missing)} to [tool.setuptools] packages in pyproject.toml"
    assert not packages - source_packages(), "pyproject lists packages that do not exist"
    top = {name.split(".")[0] for name in packages}
    assert top <= set(PYPROJECT["tool"]["mypy"]["files"]), "every top-level package goes in mypy's files"


def pins(path: Path) -> list[Requirement]:
    """The ``name==version`` lines of a requirements file (its ``-r`` includes are read on their own)."""
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def ranges() -> dict[str, Requirement]:
    project = PYPROJECT["project"]
    declared = [Requirement(text) for text in project["dependencies"]]
    declared += [Requirement(text) for group in project["optional-dependencies"].values() for text in group]
    return {req.name.lower(): req for req in declared if req.name != "pvsim"}


@pytest.mark.parametrize("path", sorted(ROOT.glob("requirements*.txt")), ids=lambda path: path.name)
def test_every_pin_lies_in_the_pyproject_range(path: Path) -> None:
    declared = ranges()
    for pin in pins(path):
        version = next(iter(pin.specifier)).version
        assert pin.name.lower() in declared, f"{path.name}: {pin.name} is not in pyproject's dependencies or extras"
        assert declared[pin.name.lower()].specifier.contains(version, prereleases=True), (
            f"{path.name}: {pin.name}=={version} is outside pyproject's {declared[pin.name.lower()]}")


def test_pvsim_help_lists_every_command() -> None:
    done = subprocess.run([sys.executable, "-m", "pvsim", "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    for name, (module, _) in COMMANDS.items():
        assert re.search(rf"^  {name} .*\(python -m {re.escape(module)}\)$", done.stdout, re.MULTILINE), name


def test_every_python_m_program_has_a_pvsim_command() -> None:
    programs = {path.parent.name for path in ROOT.glob("*/__main__.py")} - {"pvsim"}
    programs |= {"pv_simulator.report", "pv_simulator.dead_letters"}
    assert programs == {module for module, _ in COMMANDS.values()}


def test_an_unknown_command_is_one_line_and_exit_2() -> None:
    done = subprocess.run([sys.executable, "-m", "pvsim", "metre"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "pvsim: error: unknown command 'metre' (choose from " + ", ".join(COMMANDS) + ")"]
