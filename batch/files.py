"""Whole output files from tasks that may run twice: temporary file, fsync, atomic rename.

A batch task can run more than once: Dask reschedules the tasks of a worker it presumes
dead, and that worker may still be running them (a network partition, a paused VM). Each
attempt therefore writes its own uniquely named temporary file beside the target,
fsyncs it and renames it over the target (``rename(2)`` replaces atomically on POSIX
filesystems, NFS included). A reader sees the old file or a whole new one, never a mix,
and as every attempt writes the same bytes, the last rename leaves the same file.
A killed attempt leaves its temporary file behind; :func:`remove_temporaries` clears
them when the run is done.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterable
from pathlib import Path

from pv_simulator.writer import fsync_directory

_TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{32}\.tmp$")


def temporary_for(path: Path) -> Path:
    """A fresh temporary path beside ``path``: ``.<name>.<32 hex>.tmp`` (hidden, unique per call)."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")


def replace_atomically(files: Iterable[tuple[Path, bytes]]) -> None:
    """Write each ``(path, data)`` whole: temporary file, fsync, rename over ``path``; then fsync the folders.

    Parent folders are created as needed. Raises ``OSError`` (the temporary file of the
    failing path is removed; files renamed before it stay, whole).
    """
    folders: set[Path] = set()
    for path, data in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = temporary_for(path)
        try:
            with temporary.open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except OSError:
            temporary.unlink(missing_ok=True)
            raise
        folders.add(path.parent)
    for folder in folders:
        fsync_directory(folder)


def remove_temporaries(folders: Iterable[Path]) -> int:
    """Delete temporary files left in ``folders`` by killed attempts; returns how many. Missing folders are skipped."""
    removed = 0
    for folder in folders:
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            continue
        for name in names:
            if _TEMPORARY.match(name):
                (folder / name).unlink(missing_ok=True)
                removed += 1
    return removed
