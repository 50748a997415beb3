"""The emulated clock: local days as UTC instants, and pacing emulated time against the wall clock.

All instants are integer epoch seconds (UTC). A *local day* runs from local midnight
to the next local midnight in the site's timezone, so it lasts 23, 24 or 25 hours on
days the clocks change.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt


def day_bounds_s(day: date, tz: ZoneInfo) -> tuple[int, int]:
    """UTC epoch seconds of local midnight starting ``day`` and of the next local midnight.

    Returns ``(start_s, end_s)``; ``end_s - start_s`` is 82,800, 86,400 or 90,000 s.
    """
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    nxt = day + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
    return int(start.timestamp()), int(end.timestamp())


def local_date(epoch_s: float, tz: ZoneInfo) -> date:
    """The site's local calendar date at an instant."""
    return datetime.fromtimestamp(epoch_s, tz).date()


class Pacer:
    """Maps emulated time to wall time at ``speed`` emulated seconds per wall second.

    ``speed=math.inf`` (the default, "max") never waits. A pacer that falls behind
    catches up by not waiting until it is on schedule again (no readings are skipped).
    ``now`` is injectable for tests.
    """

    def __init__(self, speed: float = math.inf, now: Callable[[], float] = time.monotonic) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.speed = speed
        self._now = now
        self._origin: tuple[float, float] | None = None

    def start(self, emulated_s: float) -> None:
        """Anchor the emulated instant ``emulated_s`` [s] to the wall clock now."""
        self._origin = (emulated_s, self._now())

    def delay_s(self, emulated_s: float) -> float:
        """Wall seconds to wait before the emulated instant ``emulated_s`` is due (0 if due)."""
        if math.isinf(self.speed):
            return 0.0
        if self._origin is None:
            self.start(emulated_s)
        assert self._origin is not None
        emulated0, wall0 = self._origin
        due = wall0 + (emulated_s - emulated0) / self.speed
        return max(0.0, due - self._now())


class LocalDay:
    """One local calendar day of a site: its UTC bounds and its UTC offsets, minute by minute.

    Converting an instant inside the day to local wall-clock time costs one array
    lookup, which lets services do it per message without timezone arithmetic.
    UTC offsets are sampled each minute: every real timezone changes offset on a
    minute boundary.
    """

    __slots__ = ("_offset_list", "_offsets_s", "day", "end_s", "start_s", "tz")

    def __init__(self, day: date, tz: ZoneInfo) -> None:
        self.day = day
        self.tz = tz
        self.start_s, self.end_s = day_bounds_s(day, tz)
        minutes = np.arange(self.start_s, self.end_s, 60)
        self._offsets_s = np.array(
            [int(datetime.fromtimestamp(int(t), tz).utcoffset().total_seconds()) for t in minutes],  # type: ignore[union-attr]
            dtype=np.int64,
        )
        self._offset_list: list[int] = self._offsets_s.tolist()

    @property
    def length_s(self) -> int:
        """Duration of the day [s]: 86,400, or 82,800 / 90,000 on the days clocks change."""
        return self.end_s - self.start_s

    def contains(self, epoch_s: float) -> bool:
        """Whether the instant falls in this local day."""
        return self.start_s <= epoch_s < self.end_s

    def utc_offset_s(self, epoch_s: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """UTC offset [s] in force at each instant (vectorised; instants must lie in the day)."""
        minute = (np.asarray(epoch_s, dtype=np.int64) - self.start_s) // 60
        return self._offsets_s[minute]

    def offset_at_s(self, epoch_s: int) -> int:
        """UTC offset [s] in force at one instant of the day [epoch s] (a scalar lookup, for per-message use)."""
        # A list, not the array: indexing NumPy with a Python int and converting back costs more than the
        # rest of the PV lookup per reading.
        return self._offset_list[(epoch_s - self.start_s) // 60]

    def wall_seconds(self, epoch_s: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Local wall-clock time of each instant as seconds since local midnight [s], 0..86,399.

        On the day clocks go back, the repeated hour maps to the same wall seconds twice.
        """
        t = np.asarray(epoch_s, dtype=np.int64)
        return (t + self.utc_offset_s(t)) % 86_400

    def timestamps_s(self, interval_s: int) -> npt.NDArray[np.int64]:
        """Epoch seconds of every reading of the day at ``interval_s`` [s], from local midnight."""
        return np.arange(self.start_s, self.end_s, interval_s, dtype=np.int64)
