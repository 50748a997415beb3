"""Imports flow one way, ``common -> models -> store -> services``: ``batch/`` uses ``models/`` and the store,
never a service; ``api/`` and ``grid/`` import no other service; the store and the models import no service;
``models/`` does not import the settings built on it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"pv_simulator", "meter", "api"}
"""The service packages (STYLE.md's layout)."""
SETTINGS_ON_MODELS = {"common.model_settings", "common.run_settings", "common.settings"}
"""The settings modules that build model objects (from flags), so ``models/`` must not import them."""


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


def test_the_models_do_not_import_the_settings_built_on_them() -> None:
    for path in (ROOT / "models").rglob("*.py"):
        assert not imported_modules(path) & SETTINGS_ON_MODELS, path
