"""How long an I/O loop was held by its callbacks, measured by a timer's lateness.

A service's pika I/O loop also sends heartbeats and reads the socket; a callback that
runs for long stalls all of it (the broker drops a connection that misses two 30 s
heartbeats). :class:`LoopWatch` schedules itself every ``interval_s`` and records how
late it fires: the longest lateness bounds the longest stretch of callbacks between
two turns of the loop. It costs one timer callback per interval.

On a machine shared with other work, a stall also counts the time the process was
not scheduled; the CPU time the process used in that stretch (including up to one
interval before the timer was due) tells its own work apart.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Protocol


class _IOLoop(Protocol):
    def call_later(self, delay: float, callback: object) -> object: ...


class LoopWatch:
    """Records the longest stall of an I/O loop [s] in :attr:`max_stall_s`."""

    def __init__(self, interval_s: float = 0.05) -> None:
        self.interval_s = interval_s
        self.max_stall_s = 0.0
        self.max_stall_ended: datetime | None = None
        """Wall-clock time the longest stall ended (local time), to find it in the log."""
        self.max_stall_cpu_s = 0.0
        """CPU time of the process from scheduling to firing of the timer that saw the longest stall [s]."""
        self._loop: _IOLoop | None = None
        self._due = 0.0
        self._cpu = 0.0

    def watch(self, ioloop: _IOLoop) -> None:
        """Start watching ``ioloop`` (a new loop after a reconnect replaces the old one)."""
        self._loop = ioloop
        self._schedule(ioloop)

    def _schedule(self, ioloop: _IOLoop) -> None:
        self._due = time.monotonic() + self.interval_s
        self._cpu = time.process_time()
        ioloop.call_later(self.interval_s, lambda: self._fire(ioloop))

    def _fire(self, ioloop: _IOLoop) -> None:
        if ioloop is not self._loop:
            return
        stall = time.monotonic() - self._due
        if stall > self.max_stall_s:
            self.max_stall_s, self.max_stall_ended = stall, datetime.now()
            self.max_stall_cpu_s = time.process_time() - self._cpu
        self._schedule(ioloop)

    def describe(self) -> str:
        """``'longest I/O-loop stall 120 ms (CPU 60 ms, ended 10:31:02.5)'``, for the final log line."""
        if self.max_stall_ended is None:
            return "longest I/O-loop stall 0 ms"
        return (f"longest I/O-loop stall {self.max_stall_s * 1000:.0f} ms (CPU {self.max_stall_cpu_s * 1000:.0f} ms, "
                f"ended {self.max_stall_ended:%H:%M:%S.%f}"[:-5] + ")")
