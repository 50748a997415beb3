"""The instants a day file holds, its whole seconds kept compactly while they arrive in step.

Pure data, no files: :class:`HeldInstants` is the index :class:`store.dayfile.DayFile` asks
whether a reading is already in its CSV; its whole seconds are a :class:`HeldSeconds`. A meter
publishes at a fixed ``--interval-s``, in order, so a day's instants normally form an arithmetic
progression (first second, step, count): that costs a few dozen bytes per day file
instead of a bitmap of one bit per second of the day (10.8 kB, 11 MB at 1,000 meters).
An instant off the progression (a gap, an out-of-order reading, another step) turns
the index into the bitmap for good; duplicates and redeliveries of held instants
never do.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt


class HeldSeconds:
    """A set of whole seconds [epoch s] within the span [start_s, end_s) (one local day).

    While every second added so far lies on one arithmetic progression in arrival order
    (``first``, ``first + step``, ... ``first + (count - 1) * step``, ``step > 0``) only those
    three numbers are kept; any other new second expands the set to a bitmap of
    ``(end_s - start_s) / 8`` bytes (bit ``i``, little-endian: ``start_s + i`` is held).
    Queries over many seconds (:meth:`seconds` and those built on it) make a temporary
    NumPy array: they run rarely (the end of a run, a takeover).
    """

    __slots__ = ("_bits", "_count", "_first", "_next", "_step", "end_s", "start_s")

    def __init__(self, start_s: int, end_s: int) -> None:
        """An empty set over [start_s, end_s) [epoch s]; raises ``ValueError`` if the span is empty."""
        if end_s <= start_s:
            raise ValueError(f"empty span [{start_s}, {end_s})")
        self.start_s = start_s
        self.end_s = end_s
        self._first = 0  # the progression's first second [epoch s] (count >= 1)
        self._step = 0  # its step [s] (count >= 2)
        self._count = 0
        self._next: int | None = None  # first + count * step while in step with count >= 2, else None
        self._bits: bytearray | None = None  # the bitmap, once the progression is broken

    @property
    def expanded(self) -> bool:
        """Whether the set is held as the bitmap (a second off the progression arrived)."""
        return self._bits is not None

    def __len__(self) -> int:
        """How many seconds are held."""
        if self._bits is None:
            return self._count
        return int(np.unpackbits(np.frombuffer(self._bits, dtype=np.uint8)).sum())

    def __contains__(self, second: object) -> bool:
        """Whether ``second`` [epoch s, int] is held."""
        if not isinstance(second, int | np.integer) or not self.start_s <= second < self.end_s:
            return False
        second = int(second)
        bits = self._bits
        if bits is not None:
            index = second - self.start_s
            return bool(bits[index >> 3] & (1 << (index & 7)))
        count = self._count
        if count == 0:
            return False
        offset = second - self._first
        if count == 1:
            return offset == 0
        return 0 <= offset <= (count - 1) * self._step and offset % self._step == 0

    def add(self, second: int) -> bool:
        """Hold ``second`` [epoch s, within the span]; False if it was held already.

        Raises ``ValueError`` for a second outside the span.
        """
        if second == self._next and second < self.end_s:  # the next one in step: the usual case, kept cheap
            self._next = second + self._step
            self._count += 1
            return True
        if not self.start_s <= second < self.end_s:
            raise ValueError(f"{second} is outside [{self.start_s}, {self.end_s})")
        bits = self._bits
        if bits is None:
            if self._count == 0:
                self._first, self._count = second, 1
                return True
            if self._count == 1 and second > self._first:
                self._step, self._count = second - self._first, 2
                self._next = second + self._step
                return True
            if second in self:
                return False
            bits = self._expand()
            self._next = None
        index = second - self.start_s
        byte, bit = index >> 3, 1 << (index & 7)
        if bits[byte] & bit:
            return False
        bits[byte] |= bit
        return True

    def _expand(self) -> bytearray:
        """Turn the progression into the bitmap (kept from now on) and return it."""
        held = np.zeros(self.end_s - self.start_s, dtype=bool)
        held[self._index_array()] = True
        self._bits = bytearray(np.packbits(held, bitorder="little").tobytes())
        return self._bits

    def _index_array(self) -> npt.NDArray[np.int64]:
        """Held seconds as offsets from ``start_s`` [s], ascending, shape (len(self),)."""
        if self._bits is not None:
            return np.flatnonzero(np.unpackbits(np.frombuffer(self._bits, dtype=np.uint8), bitorder="little"))
        step = self._step or 1
        first = self._first - self.start_s
        return np.arange(first, first + self._count * step, step, dtype=np.int64)

    def seconds(self) -> npt.NDArray[np.int64]:
        """Every held second [epoch s], ascending, shape (len(self),) (a new array)."""
        return self._index_array() + self.start_s

    def count_on_grid(self, first_s: int, last_s: int, step_s: int) -> int:
        """How many of the seconds ``first_s``, ``first_s + step_s``, ... <= ``last_s`` [epoch s] are held.

        ``step_s`` > 0 [s]; the grid may reach beyond the span (those seconds are not held).
        """
        held = self.seconds()
        on_grid = (held >= first_s) & (held <= last_s) & ((held - first_s) % step_s == 0)
        return int(on_grid.sum())

    def latest_before(self, second: int) -> int | None:
        """The latest held second [epoch s] before ``second``, or None."""
        held = self.seconds()
        below = int(np.searchsorted(held, second))
        return int(held[below - 1]) if below else None


class HeldInstants:
    """A set of instants [epoch ms] within the span [start_s, end_s) [epoch s] (one local day): the whole
    seconds in a :class:`HeldSeconds` (:attr:`whole`), the rare others in a set (:attr:`subsecond`)."""

    __slots__ = ("subsecond", "whole")

    def __init__(self, start_s: int, end_s: int) -> None:
        """An empty set over [start_s, end_s) [epoch s]; raises ``ValueError`` if the span is empty."""
        self.whole = HeldSeconds(start_s, end_s)
        self.subsecond: set[int] = set()  # epoch ms of instants that are not whole seconds

    def add(self, ms: int) -> bool:
        """Hold an instant [epoch ms]; False if it was held already. Raises ``ValueError`` for a whole second
        outside the span."""
        second, rest = divmod(ms, 1000)
        if rest:
            if ms in self.subsecond:
                return False
            self.subsecond.add(ms)
            return True
        return self.whole.add(second)

    def __contains__(self, ms: object) -> bool:
        """Whether an instant [epoch ms, int] is held."""
        if not isinstance(ms, int | np.integer):
            return False
        second, rest = divmod(int(ms), 1000)
        return ms in self.subsecond if rest else second in self.whole

    def __iter__(self) -> Iterator[int]:
        """Every held instant [epoch ms]: the whole seconds ascending, then the others in no order."""
        for second in self.whole.seconds().tolist():
            yield second * 1000
        yield from self.subsecond

    def count_on_grid_ms(self, first_ms: int, last_ms: int, step_ms: int) -> int:
        """How many of the instants ``first_ms``, ``first_ms + step_ms``, ... <= ``last_ms`` [epoch ms] are held.

        ``step_ms`` > 0 [ms], whole seconds: a grid off whole seconds is matched against the other instants only.
        """
        if first_ms % 1000 == 0 and step_ms % 1000 == 0:
            return self.whole.count_on_grid(first_ms // 1000, last_ms // 1000, step_ms // 1000)
        return sum(1 for ms in self.subsecond if first_ms <= ms <= last_ms and (ms - first_ms) % step_ms == 0)
