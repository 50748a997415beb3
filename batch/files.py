"""Whole output files from tasks that may run twice: temporary file, fsync, atomic rename.

A batch task can run more than once: Dask reschedules the tasks of a worker it presumes
dead, and that worker may still be running them (a network partition, a paused VM). Each
attempt therefore writes its own uniquely named temporary file beside the target,
fsyncs it and renames it over the target (``rename(2)`` replaces atomically on POSIX
filesystems, NFS included). A reader sees the old file or a whole new one, never a mix,
and as every attempt writes the same bytes, the last rename leaves the same file.
A killed attempt leaves its temporary file behind; :func:`remove_temporaries` clears
them when the run is done, and :func:`fsync_folders` then makes the renames durable.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

from store.durable import fsync_directory

_TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{32}\.tmp$")


def temporary_for(path: Path) -> Path:
    """A fresh temporary path beside ``path``: ``.<name>.<32 hex>.tmp`` (hidden, unique per call)."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")


def replace_atomically(files: Iterable[tuple[Path, Sequence[bytes]]]) -> None:
    """Replace each ``(path, chunks)`` whole: write every temporary file, fsync each, then rename each over its path.

    ``chunks`` are the file's bytes in order (a header and a body need not be joined first).

    Parent folders are created as needed. The renames are durable once the folders are
    fsynced: :func:`fsync_folders`, once for the whole run (a folder fsync per file would
    cost a journal commit each). Raises ``OSError``; the temporary files not yet renamed
    are removed, files renamed before stay, whole.
    """
    written: list[tuple[Path, Path]] = []
    try:
        for path, chunks in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = temporary_for(path)
            written.append((temporary, path))
            with temporary.open("wb") as handle:
                handle.writelines(chunks)
                handle.flush()
                os.fsync(handle.fileno())
        while written:
            os.replace(*written[0])
            written.pop(0)
    finally:
        for temporary, _ in written:
            temporary.unlink(missing_ok=True)


def fsync_folders(folders: Iterable[Path]) -> None:
    """Make the renames in ``folders`` durable (fsync each folder that exists). Raises ``OSError``."""
    for folder in folders:
        if folder.is_dir():
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
