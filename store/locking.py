"""Locking of day files shared by several processes (one active PV simulator, one standby; a paused one may wake up
after the other took over): each append and each sort holds an exclusive ``fcntl`` lock on the file, waited for
briefly only, so a process paused while holding it stalls no other (see :class:`pv_simulator.writer.DayFile`)."""

from __future__ import annotations

from store.format import OutputError


class FileBusy(OutputError):
    """Another process holds the file's lock (perhaps paused); try again later."""


LOCK_WAIT_S = 0.05
"""Longest wait for another process's lock on a day file before an append is put off [s]."""
SORT_LOCK_WAIT_S = 2.0
"""Longest wait for the lock before a sort gives up (the rows stay in arrival order) [s]."""
