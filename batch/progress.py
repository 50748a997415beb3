"""Progress of a batch run: a bar on a terminal, a log line per tenth of the days otherwise."""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

from tqdm import tqdm

log = logging.getLogger(__name__)


class DayProgress:
    """Counts written days (in any order; or meters, ``unit``, when a task is a meter) and the rows they hold.

    On a terminal (``stream.isatty()``): a tqdm bar of days with rows/s. Otherwise
    (containers, CI, files): one log line each time another tenth of the days is done,
    and at the end.
    """

    def __init__(self, days: int, stream: TextIO | None = None, unit: str = "days") -> None:
        self.days = days
        self.unit = unit
        self.done = 0
        self.rows = 0
        self._step = max(1, days // 10)
        self._started = time.monotonic()
        stream = stream or sys.stderr
        self._bar: tqdm | None = (  # type: ignore[type-arg]
            tqdm(total=days, unit=f" {unit}", file=stream, dynamic_ncols=True, mininterval=0.2)
            if stream.isatty() else None
        )

    def day_written(self, rows: int) -> None:
        """One more day is on disk, with ``rows`` rows over all meters."""
        self.done += 1
        self.rows += rows
        rate = self.rows / max(time.monotonic() - self._started, 1e-9)
        if self._bar is not None:
            self._bar.set_postfix_str(f"{rate:,.0f} rows/s", refresh=False)
            self._bar.update(1)
        elif self.done % self._step == 0 or self.done == self.days:
            log.info("%d of %d %s written (%d rows, %.0f rows/s)", self.done, self.days, self.unit, self.rows, rate)

    def close(self) -> None:
        """Finish the bar, if any."""
        if self._bar is not None:
            self._bar.close()
