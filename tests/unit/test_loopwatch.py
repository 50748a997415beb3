"""The I/O-loop stall watch (common/loopwatch.py), on a fake loop."""

from __future__ import annotations

import time
from typing import Any

from common.loopwatch import LoopWatch


class ManualLoop:
    def __init__(self) -> None:
        self.timers: list[Any] = []

    def call_later(self, delay: float, callback: Any) -> None:
        self.timers.append(callback)

    def fire(self) -> None:
        self.timers.pop(0)()


def test_the_longest_lateness_of_the_timer_is_the_longest_stall() -> None:
    loop = ManualLoop()
    watch = LoopWatch(interval_s=0.0)
    watch.watch(loop)
    loop.fire()
    busy_until = time.process_time() + 0.03
    while time.process_time() < busy_until:  # a callback holding the loop for 30 ms of CPU
        pass
    loop.fire()
    assert watch.max_stall_s >= 0.03
    assert watch.max_stall_cpu_s >= 0.03
    assert watch.describe().startswith(f"longest I/O-loop stall {watch.max_stall_s * 1000:.0f} ms (CPU ")


def test_a_replaced_loop_stops_the_old_timer() -> None:
    old, new = ManualLoop(), ManualLoop()
    watch = LoopWatch()
    watch.watch(old)
    watch.watch(new)
    old.fire()
    assert old.timers == [] and len(new.timers) == 1
