"""Progress of a meter run: a progress bar on a terminal, a log line per emulated hour otherwise."""

from __future__ import annotations

import logging
import sys
import time
from datetime import UTC, datetime
from typing import TextIO

from tqdm import tqdm

from models.plan import RunPlan

log = logging.getLogger(__name__)


class Progress:
    """Reports confirmed readings of a :class:`RunPlan`.

    On a terminal (``stream.isatty()``): a tqdm bar with readings/s and the emulated
    local time reached. Otherwise (containers, CI, files): one log line per emulated hour.
    """

    def __init__(self, plan: RunPlan, stream: TextIO | None = None) -> None:
        self.plan = plan
        self._meters = len(plan.meter_ids)
        self._hour_readings = max(1, 3600 // plan.interval_s)
        self._next_hour = 1
        self._started = time.monotonic()
        self._stream = stream or sys.stderr
        self._tty = self._stream.isatty()
        self._bar: tqdm | None = None  # type: ignore[type-arg]

    def emulated_time(self, confirmed: int) -> str:
        """Local wall-clock time of the last confirmed reading, e.g. ``2026-06-21 13:59``."""
        if confirmed == 0:
            return "start"
        day, i, _ = self.plan.locate(confirmed - 1)
        instant = int(self.plan.local_days[day].start_s + i * self.plan.interval_s)
        return datetime.fromtimestamp(instant, UTC).astimezone(self.plan.tz).strftime("%Y-%m-%d %H:%M")

    def update(self, confirmed: int) -> None:
        """``confirmed`` readings (of all meters) are confirmed by the broker."""
        if self._tty:
            if self._bar is None:  # created at the first confirm, after the start-up log lines
                self._bar = tqdm(total=self.plan.total, unit=" readings", unit_scale=True, file=self._stream,
                                 smoothing=0.1, dynamic_ncols=True, mininterval=0.2)
            if confirmed - self._bar.n >= 1000 or confirmed == self.plan.total:
                self._bar.set_postfix_str(self.emulated_time(confirmed), refresh=False)
                self._bar.update(confirmed - self._bar.n)
            return
        per_meter = confirmed // self._meters
        if per_meter >= self._next_hour * self._hour_readings:
            self._next_hour = per_meter // self._hour_readings + 1
            elapsed = time.monotonic() - self._started
            log.info("emulated %s reached: %d of %d readings confirmed (%.0f readings/s)",
                     self.emulated_time(confirmed), confirmed, self.plan.total, confirmed / max(elapsed, 1e-9))

    def close(self) -> None:
        """Finish the bar, if any."""
        if self._bar is not None:
            self._bar.close()
