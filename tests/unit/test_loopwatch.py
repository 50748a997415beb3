"""The I/O-loop stall watch (common/loopwatch.py), on a fake loop."""

from __future__ import annotations

import time

from common.loopwatch import LoopWatch
from tests.fakes import FakeIOLoop


def test_the_longest_lateness_of_the_timer_is_the_longest_stall() -> None:
    loop = FakeIOLoop()
    watch = LoopWatch(interval_s=0.0)
    watch.watch(loop)
    loop.timers()
    busy_until = time.process_time() + 0.03
    while time.process_time() < busy_until:  # a callback holding the loop for 30 ms of CPU
        pass
    loop.timers()
    assert watch.max_stall_s >= 0.03
    assert watch.max_stall_cpu_s >= 0.03
    assert watch.describe().startswith(f"longest I/O-loop stall {watch.max_stall_s * 1000:.0f} ms (CPU ")


def test_a_replaced_loop_stops_the_old_timer() -> None:
    old, new = FakeIOLoop(), FakeIOLoop()
    watch = LoopWatch()
    watch.watch(old)
    watch.watch(new)
    old.timers()
    assert old.scheduled == [] and len(new.scheduled) == 1
