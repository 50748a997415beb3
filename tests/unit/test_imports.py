"""Imports flow one way, ``common -> models -> store -> services``: ``batch/`` uses ``models/`` and the store,
never a service; ``api/`` and ``grid/`` import no other service; the store and the models import no service;
``common/`` does not import ``models/``, and ``models/`` reads no settings (the models' parameters are plain
pydantic models, which each command's settings read from flags and environment)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"pv_simulator", "meter", "api"}
"""The service packages (STYLE.md's layout)."""


def imported_modules(path: Path) -> set[str]:
    """Modules a file imports (absolute imports, including ones inside functions and under TYPE_CHECKING)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def service_imports(package: str) -> set[tuple[str, str]]:
    """(file, module) of each import of a service module by a file of ``package``."""
    return {(path.relative_to(ROOT).as_posix(), module)
            for path in sorted((ROOT / package).rglob("*.py"))
            for module in imported_modules(path) if module.split(".")[0] in SERVICES}


def test_batch_imports_no_service() -> None:
    assert not service_imports("batch")


@pytest.mark.parametrize("package", ["api", "grid"])
def test_api_and_grid_import_no_other_service(package: str) -> None:
    assert not {(path, module) for path, module in service_imports(package) if module.split(".")[0] != package}


@pytest.mark.parametrize("package", ["store", "models"])
def test_the_store_and_the_models_import_no_service(package: str) -> None:
    assert not service_imports(package)
    assert not {module for path in (ROOT / package).rglob("*.py") for module in imported_modules(path)
                if module.split(".")[0] in {"batch", "grid", "pvsim"}}


def test_common_imports_no_models() -> None:
    assert not {path.relative_to(ROOT).as_posix() for path in sorted((ROOT / "common").rglob("*.py"))
                if any(module.split(".")[0] == "models" for module in imported_modules(path))}


def test_the_models_read_no_settings() -> None:
    for path in (ROOT / "models").rglob("*.py"):
        assert not {module for module in imported_modules(path)
                    if module.split(".")[0] == "pydantic_settings" or module.endswith("settings")}, path
