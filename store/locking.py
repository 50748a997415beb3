"""Locking of day files shared by several processes (one active PV simulator, one standby; a paused one may wake up
after the other took over): each append and each sort holds an exclusive ``fcntl`` lock on the file, waited for
briefly only, so a process paused while holding it stalls no other (see :class:`store.dayfile.DayFile`)."""

from __future__ import annotations

import errno
import fcntl
import io
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from store.format import OutputError


class FileBusy(OutputError):
    """Another process holds the file's lock (perhaps paused); try again later."""


LOCK_WAIT_S = 0.05
"""Longest wait for another process's lock on a day file before an append is put off [s]."""
SORT_LOCK_WAIT_S = 2.0
"""Longest wait for the lock before a sort gives up (the rows stay in arrival order) [s]."""


@contextmanager
def open_locked(path: str, mode: str, wait_s: float) -> Iterator[tuple[io.BufferedRandom, os.stat_result]]:
    """The file at ``path`` opened in binary ``mode`` under an exclusive lock, surely the one at ``path``, and its
    stat.

    Raises :class:`FileBusy` if another process holds the lock for longer than ``wait_s``
    [s]. A process that got the lock after another replaced the file (a sort) opens it again.
    """
    deadline = time.monotonic() + wait_s
    while True:
        handle = open(path, mode)  # noqa: SIM115 - closed below or after the yield
        try:
            _try_lock(handle.fileno(), deadline, path)
            stat = os.fstat(handle.fileno())
            if stat.st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        except BaseException:
            handle.close()
            raise
        handle.close()
    try:
        yield handle, stat  # type: ignore[misc]
    finally:
        handle.close()  # releases the lock if still held


def _try_lock(descriptor: int, deadline: float, path: str) -> None:
    while True:
        try:
            fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                raise
        if time.monotonic() >= deadline:
            raise FileBusy(f"{path} is locked by another process (paused?); its rows wait")
        time.sleep(0.005)
