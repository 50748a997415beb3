"""What a day file asks of columns computed outside the store: a home battery's, after meter and PV power.

The store writes the bytes it is given and counts them in its interval sums; the dispatch that computes them
(physics) is the PV simulator's (:class:`pv_simulator.battery_state.BatteryStates` fits this protocol).
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

import numpy as np
import numpy.typing as npt

from common.clock import LocalDay

IntArray = npt.NDArray[np.int64]


class DeviceColumns(Protocol):
    """Columns after meter and PV power that a day file's rows carry (a home battery's), worked out from a
    meter's rows in time order."""

    header: str
    """The header of a day file with these columns."""
    recomputed: list[tuple[str, int, int]]
    """(meter id, first, last instant [epoch s]) of days rewritten with new columns, for their results."""
    last_rows: IntArray
    """The rows of the last :meth:`append_rows` or :meth:`day_content` (n, 5): instant [epoch s], meter, PV,
    battery power [0.1 W], state of charge [0.1 Wh]."""

    def append_rows(self, meter_id: str, day: LocalDay, queued: IntArray) -> tuple[bytes, IntArray] | None:
        """The CSV rows of queued rows (n, 3: instant [epoch ms], meter and PV power [0.1 W]) and their
        :attr:`last_rows`; None if one is not later than the meter's last row (the day is rewritten)."""

    def day_content(self, meter_id: str, day: LocalDay, old: bytes, queued: IntArray = ...) -> bytes:
        """The day file's new bytes: its rows on disk (``old``, header included) and the queued ones."""

    def rewrite_later(self, meter_id: str, day: date) -> int:
        """Rewrite the meter's days on disk after ``day``; how many were rewritten."""

    def forget(self, meter_id: str | None = None) -> None:
        """Drop what is known of ``meter_id``'s state (default: every meter's): another process wrote its files."""
