"""What a meter run publishes, day by day: timestamps and power of every meter (pure, no I/O).

Readings are numbered in publishing order by a *global index* ``g``: day by day,
second by second, and within each second meter by meter. A day's readings depend
only on (seed, meter, date), so any day can be regenerated when a run resumes.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from common.clock import LocalDay
from meter.models import LoadParams, load_w, meter_rng


@dataclass(frozen=True)
class DayReadings:
    """All readings of one local day: ``timestamps_s`` (n,) epoch [s]; ``power_w`` (meters, n) [W]."""

    day: LocalDay
    seq0: int
    """``seq`` of the day's first reading (readings of earlier days in the run)."""
    timestamps_s: npt.NDArray[np.int64]
    power_w: npt.NDArray[np.float64]

    @cached_property
    def timestamps_utc(self) -> list[str]:
        """ISO 8601 UTC strings with ``Z`` of each timestamp (the wire format)."""
        text = np.datetime_as_string(self.timestamps_s.astype("datetime64[s]"), unit="s")
        return [t + "Z" for t in text.tolist()]

    @cached_property
    def power_list(self) -> list[list[float]]:
        """``power_w`` as Python floats, meter by meter (cheap per-message access)."""
        return self.power_w.tolist()  # type: ignore[no-any-return]


@dataclass(frozen=True)
class RunPlan:
    """The readings of ``meter_ids`` over ``days`` local days from ``first_day``."""

    meter_ids: tuple[str, ...]
    first_day: date
    days: int
    tz: ZoneInfo
    interval_s: int
    seed: int
    model: str
    load: LoadParams = field(default_factory=LoadParams)

    @cached_property
    def local_days(self) -> tuple[LocalDay, ...]:
        """Every local day of the run, in order."""
        return tuple(LocalDay(self.first_day + timedelta(days=k), self.tz) for k in range(self.days))

    @cached_property
    def readings_per_day(self) -> tuple[int, ...]:
        """Readings per meter on each day (86,400 on a normal day at 1 s)."""
        return tuple(-(-d.length_s // self.interval_s) for d in self.local_days)

    @cached_property
    def day_starts(self) -> tuple[int, ...]:
        """``seq`` of each day's first reading."""
        starts, total = [], 0
        for n in self.readings_per_day:
            starts.append(total)
            total += n
        return tuple(starts)

    @property
    def readings_per_meter(self) -> int:
        """Readings each meter publishes over the whole run."""
        return sum(self.readings_per_day)

    @property
    def total(self) -> int:
        """Readings of all meters over the whole run."""
        return self.readings_per_meter * len(self.meter_ids)

    def locate(self, g: int) -> tuple[int, int, int]:
        """Global index -> (day index, reading index within the day, meter index)."""
        seq, meter = divmod(g, len(self.meter_ids))
        day = bisect_right(self.day_starts, seq) - 1
        return day, seq - self.day_starts[day], meter

    def day(self, index: int) -> DayReadings:
        """Generate (deterministically) the readings of day ``index`` for every meter."""
        local_day = self.local_days[index]
        timestamps = local_day.timestamps_s(self.interval_s)
        wall = local_day.wall_seconds(timestamps)
        ordinal = local_day.day.toordinal()
        power = np.stack(
            [
                load_w(self.model, wall, self.interval_s, meter_rng(self.seed, number, ordinal), local_day.day,
                       self.load)
                for number in range(1, len(self.meter_ids) + 1)
            ]
        )
        return DayReadings(local_day, self.day_starts[index], timestamps, power)
