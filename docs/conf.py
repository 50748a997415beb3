"""Sphinx configuration of pvsim's documentation: ``python -m sphinx -W -b html docs docs/_build/html``."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the packages, importable without installing pvsim
os.environ.setdefault("MPLBACKEND", "Agg")

project = "pvsim"
author = "the pvsim developers"
copyright = "2026, the pvsim developers"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip",
                    "auto_examples/*.json", "auto_examples/*.md5"]
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

autodoc_typehints = "none"  # the numpydoc sections carry the types
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()

intersphinx_mapping: dict[str, tuple[str, str | None]] = {}  # no network at build time

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "within_subsection_order": "FileNameSortKey",
}

html_theme = "furo"
html_title = "pvsim"
html_static_path: list[str] = []

# A module's docstring carries its References; its functions cite them as ``[2]_``. Sphinx renders each
# docstring alone, so such a citation has no target there: it is shown as plain "[2]" (the list is on the
# module's entry), and a module's list that only its functions cite is not an unreferenced-citation warning.
suppress_warnings = ["ref.citation"]
CITATION = re.compile(r"\[(\d+)\]_")


def cite_module_references(app: object, what: str, name: str, obj: object, options: object,
                           lines: list[str]) -> None:
    """Turn ``[n]_`` into plain ``[n]`` in a docstring that has no ``.. [n]`` targets of its own."""
    if any(line.lstrip().startswith(".. [") for line in lines):
        return
    lines[:] = [CITATION.sub(r"[\1]", line) for line in lines]


NUMPYDOC_SECTIONS = {"Parameters", "Returns", "Yields", "Receives", "Raises", "Warns", "Other Parameters",
                     "Attributes", "Methods", "See Also", "Notes", "Warnings", "References", "Examples"}


def headings_to_rubrics(app: object, what: str, name: str, obj: object, options: object, lines: list[str]) -> None:
    """A module docstring's own headings ("Sources", "Time reference") become rubrics.

    As sections they would nest inside the page's sections and clash with each other's ids.
    """
    for i in range(len(lines) - 1):
        title, underline = lines[i].strip(), lines[i + 1].strip()
        if (title and title not in NUMPYDOC_SECTIONS and len(underline) >= len(title)
                and set(underline) == {"-"} and not lines[i].startswith(" ")):
            lines[i], lines[i + 1] = f".. rubric:: {title}", ""


def setup(app: Any) -> None:
    app.connect("autodoc-process-docstring", cite_module_references, priority=100)
    app.connect("autodoc-process-docstring", headings_to_rubrics, priority=100)
