"""The documentation names the flags and commands the code has (issue #22).

Every flag a program's ``--help`` lists is on the configuration page, and every ``--flag`` that
README.md or a docs page mentions is one a pvsim program or benchmark has, or one of the few
flags of other tools the pages show (Docker Compose, Dask, pip, Alembic).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import re
import sys
from pathlib import Path

import pytest

from pvsim.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*(?![\w.-])")
BENCHMARKS = sorted(f"benchmarks.{path.stem}" for path in (ROOT / "benchmarks").glob("*.py")
                    if "def main(" in path.read_text())
OTHER_TOOLS = {
    "--build", "--exit-code-from", "--profile", "--scale",  # docker compose up
    "--nthreads", "--nworkers",  # dask worker
    "--no-deps", "--no-build-isolation", "--no-index", "--find-links", "--require-hashes",  # pip install
    "--upgrade",  # bash .ci/lock
    "--autogenerate",  # alembic revision
}


SUBCOMMANDS = [("batch", "sweep"), ("grid", "hosting-capacity")]
"""Programs with a subcommand of their own flags: ``python -m batch sweep --help``."""


def help_text(module: str, subcommand: str | None = None) -> str:
    """What ``python -m <module> [subcommand] --help`` prints, produced in this process."""
    entry = importlib.import_module(module if module.startswith("benchmarks") or "." in module
                                    else f"{module}.__main__")
    out = io.StringIO()
    argv = sys.argv
    args = [subcommand, "--help"] if subcommand else ["--help"]
    sys.argv = [module, *args]  # the benchmarks read sys.argv
    try:
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
            entry.main(args) if entry.main.__code__.co_argcount else entry.main()
    finally:
        sys.argv = argv
    return out.getvalue()


def flags(text: str) -> set[str]:
    return set(FLAG.findall(text)) - {"--help"}


@pytest.mark.parametrize(("module", "subcommand"), [*((module, None) for module, _ in COMMANDS.values()),
                                                     *SUBCOMMANDS])
def test_every_flag_of_a_program_is_on_the_configuration_page(module: str, subcommand: str | None) -> None:
    page = (ROOT / "docs" / "configuration.md").read_text()
    missing = sorted(flag for flag in flags(help_text(module, subcommand)) if f"`{flag}" not in page)
    assert not missing, f"python -m {module} {subcommand or ''} has {missing}, which docs/configuration.md lacks"


def test_every_flag_the_docs_mention_exists() -> None:
    known = OTHER_TOOLS.union(*(flags(help_text(module)) for module in
                                [*(module for module, _ in COMMANDS.values()), *BENCHMARKS]),
                              *(flags(help_text(module, subcommand)) for module, subcommand in SUBCOMMANDS))
    unknown = {f"{page.relative_to(ROOT)}: {flag}" for page in PAGES for flag in flags(page.read_text())
               if flag not in known}
    assert not unknown, f"flags no command has: {sorted(unknown)}"


def test_every_pvsim_subcommand_the_docs_mention_exists() -> None:
    named = {(page.name, name) for page in PAGES for name in re.findall(r"`pvsim ([a-z][a-z-]*)", page.read_text())}
    assert not {(page, name) for page, name in named if name not in COMMANDS}


def test_the_api_reference_covers_every_module_of_the_models_the_store_and_the_grid() -> None:
    page = (ROOT / "docs" / "reference.md").read_text()
    documented = set(re.findall(r"^\.\. automodule:: ([\w.]+)$", page, re.MULTILINE))
    modules = {".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
               for top in ("models", "store", "grid") for path in (ROOT / top).rglob("*.py")
               if path.name != "__main__.py"}
    missing = sorted(module for module in modules
                     if module not in documented and not module.split(".")[-1].startswith("_"))
    assert not missing, f"add {missing} to docs/reference.md (automodule)"
