"""The hashed lock files against the requirements files, and who installs from them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCKS = {
    "requirements-dev.lock": ["requirements-dev.txt"],
    "requirements.lock": ["requirements.txt"],
    "requirements-api.lock": ["requirements-api.txt"],
    "requirements-batch.lock": ["requirements-batch.txt", "requirements-grid.txt"],
    "requirements-build.lock": ["requirements-build.txt"],
}
"""Each lock and the requirements files it is compiled from (the same table as .ci/lock)."""
PIP_LOCK = ".ci/pip.lock"
"""pip itself, which .ci/run installs first (from the literal requirement ``pip``)."""
_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \\$")


def locked(name: str) -> dict[str, tuple[str, int]]:
    """Package (canonical name) -> (version, number of hashes) of a lock file."""
    entries: dict[str, tuple[str, int]] = {}
    current = ""
    for line in (ROOT / name).read_text().splitlines():
        if match := _ENTRY.match(line):
            current = canonicalize_name(match.group(1))
            entries[current] = (match.group(2), 0)
        elif line.strip().startswith("--hash=sha256:") and current:
            version, hashes = entries[current]
            entries[current] = (version, hashes + 1)
    return entries


def pins(name: str) -> dict[str, str]:
    """Package -> pinned version of a requirements file and every file it includes with ``-r``."""
    found: dict[str, str] = {}
    for line in (ROOT / name).read_text().splitlines():
        text = line.split("#")[0].strip()
        if text.startswith("-r "):
            found.update(pins(text[3:].strip()))
        elif text:
            requirement = Requirement(text)
            found[canonicalize_name(requirement.name)] = next(iter(requirement.specifier)).version
    return found


def test_the_table_is_the_one_in_the_lock_script() -> None:
    script = (ROOT / ".ci" / "lock").read_text()
    for lock, inputs in LOCKS.items():
        assert f"compile {lock} {' '.join(inputs)}" in script, lock
    assert f"echo pip | compile {PIP_LOCK} -" in script
    assert set(locked(PIP_LOCK)) == {"pip"} and locked(PIP_LOCK)["pip"][1] > 0


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_every_pin_of_the_requirements_files_is_in_the_lock_with_hashes(lock: str) -> None:
    entries = locked(lock)
    wanted = {name: version for source in LOCKS[lock] for name, version in pins(source).items()}
    stale = {name: (version, entries.get(name, ("missing", 0))[0]) for name, version in wanted.items()
             if entries.get(name, ("", 0))[0] != version}
    assert not stale, f"{lock} is stale (requirements file, lock): {stale}; run bash .ci/lock"
    assert all(hashes for _, hashes in entries.values()), f"{lock}: an entry without a hash"
    if lock != "requirements-build.lock":  # setuptools depends on nothing
        assert len(entries) > len(wanted), f"{lock} pins no transitive package"


def test_a_package_has_one_version_in_every_lock() -> None:
    dev = locked("requirements-dev.lock")
    for lock in set(LOCKS) - {"requirements-dev.lock"}:
        differ = {name: (version, dev.get(name, ("missing",))[0]) for name, (version, _) in locked(lock).items()
                  if dev.get(name, ("",))[0] != version}
        assert not differ, f"{lock} and requirements-dev.lock differ: {differ}"


@pytest.mark.parametrize("path", sorted([*ROOT.glob("Dockerfile.*"), ROOT / ".ci" / "run"]), ids=lambda p: p.name)
def test_images_and_ci_install_only_from_a_lock_with_hashes(path: Path) -> None:
    installs = [line for line in path.read_text().replace("\\\n", " ").splitlines() if "pip install" in line]
    assert installs, f"{path.name} installs nothing"
    for line in installs:
        if re.search(r"pip install --no-cache-dir --no-deps --no-index --no-build-isolation /tmp/pvsim\b", line):
            continue  # pvsim itself, from the image's copy of the sources: nothing comes from an index
        assert re.search(r"--require-hashes -r \S+\.lock", line), line
        assert all(name in {*LOCKS, PIP_LOCK} for name in re.findall(r"-r (\S+)", line)), line
