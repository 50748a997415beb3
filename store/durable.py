"""Durability on POSIX filesystems: a new or renamed file is kept across a crash only once its directory is synced."""

from __future__ import annotations

import os
from pathlib import Path


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
