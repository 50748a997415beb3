"""The plan of a run's readings, day by day: timestamps and power of every meter (pure, no I/O).

The meter publishes these readings; batch mode writes them without a broker; both get them from
:class:`RunPlan` (built by :meth:`models.run_parameters.RunParameters.plan`), so their bytes agree.

Readings are numbered in publishing order by a *global index* ``g``: day by day,
second by second, and within each second meter by meter. A day's readings depend
only on (seed, meter, date), so any day can be regenerated when a run resumes.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from common.clock import LocalDay
from models.load.base import LoadParams, meter_rng
from models.load.registry import day_shared, load_chunks, load_w

CHUNK_VALUES = 262_144
"""Readings (of all meters together) a :class:`DayStream` holds at a time."""


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


class DayStream:
    """One local day's readings of every meter, generated a chunk at a time, in order.

    A chunk holds ``chunk_len`` readings of every meter (``CHUNK_VALUES // meters``,
    at least 1), so memory stays flat in meters and days: about 8 MB of Python floats
    and a random stream per meter, instead of a whole day of every meter (about 4 GB
    at 1,000 meters and 1 s). The values are those of :meth:`RunPlan.day`, bit for bit.
    """

    def __init__(self, plan: RunPlan, index: int) -> None:
        self.day = plan.local_days[index]
        self.seq0 = plan.day_starts[index]
        """``seq`` of the day's first reading."""
        self.timestamps_s = self.day.timestamps_s(plan.interval_s)
        self.chunk_len = max(1, CHUNK_VALUES // len(plan.meter_ids))
        wall = self.day.wall_seconds(self.timestamps_s)
        ordinal = self.day.day.toordinal()
        shared = day_shared(plan.model, wall)
        self._streams: list[Iterator[npt.NDArray[np.float64]]] = [
            load_chunks(plan.model, wall, plan.interval_s, meter_rng(plan.seed, number, ordinal), self.day.day,
                        plan.load, self.chunk_len, shared)
            for number in range(1, len(plan.meter_ids) + 1)
        ]
        self.chunk_index = -1
        self.power_list: list[list[float]] = []
        """Power [W] of the current chunk as Python floats, ``power_list[meter][reading - chunk start]``."""
        self.timestamps_utc: list[str] = []
        """ISO 8601 UTC strings with ``Z`` of the current chunk's readings (the wire format)."""

    def seek(self, i: int) -> int:
        """Make the chunk holding reading ``i`` of the day current; returns ``i``'s index in it.

        Chunks only go forward: a reading of an earlier chunk needs a new stream.
        Raises ``ValueError`` then.
        """
        target = i // self.chunk_len
        if target < self.chunk_index:
            raise ValueError(f"reading {i} is in an earlier chunk than the current one ({self.chunk_index})")
        while self.chunk_index < target:
            self.chunk_index += 1
            chunks = [next(stream) for stream in self._streams]
            if self.chunk_index == target:
                self.power_list = np.stack(chunks).tolist()
                begin = target * self.chunk_len
                stamps = self.timestamps_s[begin : begin + self.chunk_len].astype("datetime64[s]")
                self.timestamps_utc = [t + "Z" for t in np.datetime_as_string(stamps, unit="s").tolist()]
        return i - target * self.chunk_len


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

    def day(self, index: int, meter: int | None = None) -> DayReadings:
        """Generate (deterministically) the readings of day ``index`` for every meter, or only for the meter of
        index ``meter`` (0-based; ``power_w`` then has one row)."""
        local_day = self.local_days[index]
        timestamps = local_day.timestamps_s(self.interval_s)
        wall = local_day.wall_seconds(timestamps)
        ordinal = local_day.day.toordinal()
        power = np.stack(
            [
                load_w(self.model, wall, self.interval_s, meter_rng(self.seed, number, ordinal), local_day.day,
                       self.load)
                for number in (range(1, len(self.meter_ids) + 1) if meter is None else [meter + 1])
            ]
        )
        return DayReadings(local_day, self.day_starts[index], timestamps, power)
