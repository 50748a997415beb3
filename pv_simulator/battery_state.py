"""The home battery in the PV simulator: its state of charge per meter, carried from row to row and rebuilt
exactly from the day files after a restart (stateful, exactly once).

The state of charge at a reading depends on every earlier reading of the meter, so the rows of a meter are
dispatched (:func:`models.battery.dispatch`, through :class:`~models.battery.BatteryDevice`) in time order,
a flush's queued rows at a time, from the state after the meter's last dispatched row; the day files then
hold what batch mode writes (:mod:`batch.tasks`), byte for byte.

* **After a restart** the state is not in memory, and the ``battery_soc_kwh`` column cannot carry it (4
  decimals: at 1 s a charge of 0.1 kW stores 0.026 Wh per reading, below the column's 0.1 Wh). It is derived
  from the disk instead: the state at a day's start is the previous day's exact end, kept in its summary
  (``"battery"`` → ``soc_end_kwh``; a JSON float reads back as the same float), else the end of a replay of
  the previous day's rows (further back as long as no summary is found), else, for the first day of a
  meter's files, ``--battery-initial-soc-percent``; replaying the open day's rows on disk from it gives the
  state after its last row bit for bit. The meter column is exact (0.1 W) and the PV comes from the model
  chain (the PV column is the PV fed after curtailment), so a replay reproduces the dispatch.
* **A late or redelivered reading** earlier than the meter's last dispatched row cannot be dispatched when it
  arrives: its day is recomputed from the day's start and rewritten whole (atomically), and so is every later
  day of the meter already on disk; a summary of a rewritten day is removed (written again when its run closes).
* A meter's consecutive days on disk are one battery history: its first day starts at the initial state.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import orjson

from common.clock import LocalDay
from models.balance import DaySummary, DayTotals
from models.battery import BatteryDevice, BatterySpec, dispatch
from models.battery_summary import device_day_fields
from models.chain import ModelChain
from store.format import BATTERY_HEADER, OutputError, format_day_rows, row_timestamps
from store.layout import summary_beside
from store.reader import DayFileError, read_meter_day

if TYPE_CHECKING:
    from store.dayfile import DayFile

log = logging.getLogger(__name__)

IntArray = npt.NDArray[np.int64]
LATER = 2**62
"""The last dispatched instant [epoch ms] of a meter with rows of a later day on disk: every queued row is late."""
NO_ROWS: IntArray = np.zeros((0, 3), dtype=np.int64)


class BatteryStates:
    """The battery of every meter of a PV simulator, and where its state comes from.

    Parameters
    ----------
    spec : BatterySpec
        The battery of every meter and its strategy.
    interval_s : int
        Length of each reading [s] (the meters' ``--interval-s``).
    initial_soc_kwh : float
        State of charge before a meter's first day on disk [kWh].
    chain : ModelChain
        The building's model chain without devices (the PV power of each row).
    tz : ZoneInfo
        The site's time zone (local days).
    """

    header = BATTERY_HEADER
    """Header of a day file with a battery."""

    def __init__(self, spec: BatterySpec, interval_s: int, initial_soc_kwh: float, chain: ModelChain,
                 tz: ZoneInfo) -> None:
        self.spec, self.interval_s, self.initial_soc_kwh = spec, interval_s, initial_soc_kwh
        self.chain, self.tz = chain, tz
        self._after: dict[str, tuple[int, float]] = {}  # meter -> (last dispatched instant [epoch ms], SoC [kWh])
        self.path_of: Callable[[str, date], Path] = lambda meter_id, day: Path(meter_id) / f"{day}.csv"
        self.open_day: Callable[[str, date], DayFile | None] = lambda _meter_id, _day: None
        self._days: dict[date, LocalDay] = {}
        self.recomputed: list[tuple[str, int, int]] = []
        """(meter id, first, last instant [epoch s]) of days rewritten with new battery columns, for their results."""
        self.last_rows: IntArray = np.zeros((0, 5), dtype=np.int64)
        """The rows the last dispatch made (n, 5): instant [epoch s], meter, PV fed, battery power [0.1 W], state
        of charge [0.1 Wh] (the day files' interval sums count them)."""
        self.replays = 0
        """Days replayed from disk (a restart, a takeover, a late row)."""

    def compile(self) -> None:
        """Compile the strategy's dispatch now (numba, 0.2-2 s), before the first delivery: not inside a flush,
        where it would hold the I/O loop, nor in the first rebuild's time."""
        dispatch(np.zeros(1), np.zeros(1), self.interval_s, self.spec, 0.0, np.zeros(1))

    def bind(self, path_of: Callable[[str, date], Path], open_day: Callable[[str, date], DayFile | None]) -> None:
        """Where a meter's day file is, and how to open one (:class:`~store.daystore.DayStore`'s)."""
        self.path_of, self.open_day = path_of, open_day

    def forget(self, meter_id: str | None = None) -> None:
        """Drop the state of ``meter_id`` (default: every meter): another process wrote its files; the next
        write derives it from the disk again."""
        if meter_id is None:
            self._after.clear()
        else:
            self._after.pop(meter_id, None)

    # -- appending --------------------------------------------------------------------------------
    def append_rows(self, meter_id: str, day: LocalDay, queued: IntArray) -> tuple[bytes, IntArray] | None:
        """The CSV rows, with the battery's columns, of queued rows (n, 3): instant [epoch ms], meter and PV
        power [0.1 W], dispatched in time order from the state after the meter's last row, and those rows
        (:attr:`last_rows`); None if one of
        them is not later than that row (late: :meth:`day_content` rewrites the day, :meth:`rewrite_later`
        the days after it). Raises :class:`OutputError` for instants that are not whole seconds."""
        values = queued[np.argsort(queued[:, 0], kind="stable")]
        last_ms, soc_kwh = self._state(meter_id, day)
        if values[0, 0] <= last_ms:
            return None
        stamps_s = _whole_seconds(values[:, 0], meter_id)
        body, device, _pv = self._rows(meter_id, day, stamps_s, values[:, 1], soc_kwh, values[:, 2])
        self._after[meter_id] = (int(values[-1, 0]), device.soc_kwh)
        return body, self.last_rows

    def _state(self, meter_id: str, day: LocalDay) -> tuple[int, float]:
        found = self._after.get(meter_id)
        if found is None:
            found = self._after[meter_id] = self._from_disk(meter_id, day)
        return found

    def _from_disk(self, meter_id: str, day: LocalDay) -> tuple[int, float]:
        """(last instant on disk [epoch ms], SoC after it [kWh]) of a meter whose next rows fall on ``day``."""
        if self.path_of(meter_id, day.day + timedelta(days=1)).exists():
            return LATER, 0.0  # this day's rows come after a later day's: the days are rewritten
        started, replays = time.perf_counter(), self.replays
        soc_kwh = self.soc_at_start(meter_id, day.day)
        stamps_s, meter_dw = self._disk_rows(meter_id, day.day)
        if stamps_s.size:
            soc_kwh = self._rows(meter_id, day, stamps_s, meter_dw, soc_kwh, text=False)[1].soc_kwh
            self.replays += 1
        if self.replays > replays:
            log.info("%s: battery state rebuilt from the day files (%d day(s) replayed in %.0f ms): %.6f kWh",
                     meter_id, self.replays - replays, 1000 * (time.perf_counter() - started), soc_kwh)
        return (int(stamps_s[-1]) * 1000 if stamps_s.size else day.start_s * 1000 - 1), soc_kwh

    # -- rewriting ------------------------------------------------------------------------------
    def day_content(self, meter_id: str, day: LocalDay, old: bytes, queued: IntArray = NO_ROWS,
                    soc_kwh: float | None = None, keep_summary: bool = False) -> bytes:
        """The whole file of a day: its rows ``old`` (the file's bytes) and ``queued`` (n, 3) merged in time
        order, dispatched from ``soc_kwh`` (default: the state at the day's start); the meter's state
        becomes the one after its last row."""
        disk_s, disk_dw = self._disk_rows(meter_id, day.day)  # what ``old`` holds: the caller has the file locked
        stamps_s = np.concatenate((disk_s, _whole_seconds(queued[:, 0], meter_id)))
        meter_dw = np.concatenate((disk_dw, queued[:, 1]))
        order = np.argsort(stamps_s, kind="stable")
        stamps_s, meter_dw = stamps_s[order], meter_dw[order]
        start = self.soc_at_start(meter_id, day.day) if soc_kwh is None else soc_kwh
        body, device, _pv = self._rows(meter_id, day, stamps_s, meter_dw, start)
        self._after[meter_id] = (int(stamps_s[-1]) * 1000 if stamps_s.size else day.start_s * 1000 - 1,
                                 device.soc_kwh)
        if not keep_summary:
            self._drop_summary(meter_id, day.day)
        return self.header.encode() + body

    def rewrite_later(self, meter_id: str, day: date) -> int:
        """Recompute and rewrite every day of ``meter_id`` after ``day`` on disk (their start changed), in
        order, from the state the rewrite of ``day`` left; returns how many. Raises :class:`OutputError`."""
        rewritten, later = 0, day + timedelta(days=1)
        while self.path_of(meter_id, later).exists():
            day_file = self.open_day(meter_id, later)
            if day_file is None:
                break
            day_file.rewrite(partial(self._later_content, meter_id, day_file.day, self._after[meter_id][1]))
            rewritten += 1
            later += timedelta(days=1)
        if rewritten:
            log.info("%s: %d later day(s) recomputed after a late reading on %s", meter_id, rewritten, day)
        return rewritten

    def _later_content(self, meter_id: str, day: LocalDay, soc_kwh: float, old: bytes) -> bytes:
        return self.day_content(meter_id, day, old, soc_kwh=soc_kwh)

    def _drop_summary(self, meter_id: str, day: date) -> None:
        """A day's summary no longer matches its rewritten rows: remove it (its run's closing writes it again)."""
        summary = summary_beside(self.path_of(meter_id, day))
        try:
            summary.unlink()
        except FileNotFoundError:
            return
        except OSError as error:
            raise OutputError(f"cannot remove the stale {summary}: {error.strerror or error}") from error
        log.warning("%s: rows rewritten after a late reading; its summary is removed until its run closes", summary)

    # -- closing a day ----------------------------------------------------------------------------
    def close_day(self, day_file: DayFile, interval_s: int,
                  dc_capacity_kw: float | None) -> tuple[DaySummary, dict[str, float | None]]:
        """The summary of a meter's day and its ``"battery"`` object, computed from the file as batch mode
        computes them (the file is rewritten first if it differs from a recomputation, which it should not)."""
        if interval_s != self.interval_s:
            log.error("%s: the meter's readings are %d s apart, the battery is dispatched over --interval-s %d; "
                      "its energies are off", day_file.path, interval_s, self.interval_s)
        meter_id, day = day_file.meter_id, day_file.day
        soc_kwh = self.soc_at_start(meter_id, day.day)
        last = self._after.pop(meter_id, None)
        if day_file.rewrite(lambda old: self._unless_same(meter_id, day, old, soc_kwh)):
            self.rewrite_later(meter_id, day.day)  # leaves the state after the meter's last day on disk
        elif last is not None:
            self._after[meter_id] = last
        else:
            self._after.pop(meter_id, None)  # derived from the disk when the meter's next rows come
        stamps_s, meter_dw = self._disk_rows(meter_id, day.day)
        body, device, pv_dw = self._rows(meter_id, day, stamps_s, meter_dw, soc_kwh)
        totals = DayTotals.of_arrays(meter_dw, pv_dw - device.curtailed_dw, row_timestamps(body), device.battery_dw)
        summary = totals.summary(meter_id, day.day.isoformat(), interval_s, dc_capacity_kw)
        return summary, device_day_fields(device, meter_dw / 10_000, pv_dw / 10_000, self.interval_s)

    def _unless_same(self, meter_id: str, day: LocalDay, old: bytes, soc_kwh: float) -> bytes | None:
        content = self.day_content(meter_id, day, old, soc_kwh=soc_kwh, keep_summary=True)
        if content == old[:old.rfind(b"\n") + 1]:
            return None
        log.warning("%s %s: the battery's columns differed from a recomputation; rewritten", meter_id, day.day)
        return content

    # -- the state at a day's start ---------------------------------------------------------------
    def soc_at_start(self, meter_id: str, day: date) -> float:
        """The exact state of charge before the first reading of ``day`` [kWh]: the previous day's end from
        its summary, else from a replay of its rows (back until a summary or the first day on disk)."""
        back: list[date] = []
        previous = day - timedelta(days=1)
        while True:
            soc_kwh = self._summary_soc_end(meter_id, previous)
            if soc_kwh is not None:
                break
            if not self.path_of(meter_id, previous).exists():
                soc_kwh = self.initial_soc_kwh
                break
            back.append(previous)
            previous -= timedelta(days=1)
        for earlier in reversed(back):
            stamps_s, meter_dw = self._disk_rows(meter_id, earlier)
            if stamps_s.size:
                soc_kwh = self._rows(meter_id, self._local_day(earlier), stamps_s, meter_dw, soc_kwh,
                                     text=False)[1].soc_kwh
                self.replays += 1
        return soc_kwh

    def _summary_soc_end(self, meter_id: str, day: date) -> float | None:
        path = summary_beside(self.path_of(meter_id, day))
        try:
            fields: Any = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, orjson.JSONDecodeError) as error:
            log.warning("%s cannot be read (%s); replaying its day instead", path, error)
            return None
        battery = fields.get("battery") if isinstance(fields, dict) else None
        soc_kwh = battery.get("soc_end_kwh") if isinstance(battery, dict) else None
        return float(soc_kwh) if isinstance(soc_kwh, float | int) else None

    # -- rows -----------------------------------------------------------------------------------------
    def _rows(self, meter_id: str, day: LocalDay, stamps_s: IntArray, meter_dw: IntArray, soc_kwh: float,
              pv_dw: IntArray | None = None, text: bool = True) -> tuple[bytes, BatteryDevice, IntArray]:
        """Dispatch rows in time order from ``soc_kwh``: (CSV rows, or nothing without ``text``, the battery
        after them, PV power [0.1 W])."""
        if pv_dw is None:
            pv_dw = self.chain.run(day, stamps_s, meter_dw / 10).pv_dw
        device = BatteryDevice(self.spec, self.interval_s, soc_kwh)
        device.power_dw(day, stamps_s, meter_dw, pv_dw)
        if not text:
            return b"", device, pv_dw
        self.last_rows = np.column_stack((stamps_s, meter_dw, pv_dw - device.curtailed_dw, device.battery_dw,
                                          device.soc_dw))
        rows = np.column_stack((stamps_s * 1000, meter_dw, pv_dw - device.curtailed_dw))
        body = format_day_rows(meter_id, day, rows, battery=(device.battery_dw, device.soc_dw))
        return body, device, pv_dw

    def _local_day(self, day: date) -> LocalDay:
        found = self._days.get(day)
        if found is None:
            found = self._days[day] = LocalDay(day, self.tz)  # 50 ms each: kept
            if len(self._days) > 64:
                del self._days[next(iter(self._days))]
        return found

    def _disk_rows(self, meter_id: str, day: date) -> tuple[IntArray, IntArray]:
        """(instants [epoch s], meter power [0.1 W]) of the complete rows of a meter's day file, in time order;
        none if it has none or does not exist. Raises :class:`OutputError`."""
        path = self.path_of(meter_id, day)
        if not path.exists() or path.stat().st_size <= len(self.header):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        try:
            stamps_s, powers_kw = read_meter_day(path, meter_id, self._local_day(day), battery_in_load=False)
        except DayFileError as error:
            raise OutputError(str(error)) from error
        order = np.argsort(stamps_s, kind="stable")
        return stamps_s[order], np.rint(powers_kw[order, 0] * 10_000).astype(np.int64)


def _whole_seconds(instants_ms: IntArray, meter_id: str) -> IntArray:
    if (instants_ms % 1000).any():
        raise OutputError(f"{meter_id}: a battery is dispatched over whole-second readings only")
    return instants_ms // 1000
