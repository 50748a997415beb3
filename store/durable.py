"""Durability on POSIX filesystems: a new or renamed file is kept across a crash only once its directory is synced;
many files are made durable at once by Linux's ``syncfs``; an output directory is checked writable before a run."""

from __future__ import annotations

import ctypes
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from store.format import OutputError


def fsync_directory(path: Path) -> None:
    """Make a new or renamed entry in the directory ``path`` durable (POSIX: fsync the directory).

    Raises
    ------
    OSError
        If the directory cannot be opened or synced.
    """
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def find_syncfs(release: str | None = None) -> Callable[[int], int] | None:
    """Linux's ``syncfs(fd)`` from the C library (0 on success, -1 and errno on failure), or None.

    None also on Linux before 5.8 (``release``: the kernel's, default this one's), whose
    ``syncfs`` does not report write errors.
    """
    system = os.uname()
    if system.sysname != "Linux":
        return None
    try:
        major, minor = (int(part) for part in (release or system.release).split(".")[:2])
    except ValueError:
        return None
    if (major, minor) < (5, 8):
        return None
    try:
        return getattr(ctypes.CDLL(None, use_errno=True), "syncfs", None)  # type: ignore[no-any-return]
    except OSError:
        return None


def check_output_dir(path: Path) -> None:
    """Create ``path`` if missing and check that files can be created in it.

    Raises :class:`OutputError` saying why not (a file in the way, no permission, a
    read-only filesystem).
    """
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path} is a file, not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        descriptor, probe = tempfile.mkstemp(prefix=".pvsim-probe-", dir=path)
        os.close(descriptor)
        os.unlink(probe)
    except OSError as error:
        raise OutputError(f"cannot write in {path}: {error.strerror or error}") from None
