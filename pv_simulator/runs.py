"""Which meter runs are complete on disk, for ``--exit-when-done`` and the day summaries.

A meter ends its run with an :class:`~common.schema.EndOfRun` naming how many
readings it published and when. A run is *complete* when, for every meter it lists,
each announced instant is in that meter's CSVs. Announcements are recorded under
``<output_dir>/.pvsim/runs/`` before they are acknowledged, so a PV simulator that
restarts still knows what it waits for.

Counting never walks a run's files inside a message callback: an announcement (or a
record resumed at start) only queues its days, and :meth:`RunTracker.advance`
counts the instants already held day by day, within a time budget, from the
service's periodic tick. Rows written after a day was counted decrement the
remaining count as they are queued (:meth:`RunTracker.written`). The day indexes
are in memory (see :class:`~pv_simulator.writer.CsvStore`), so counting a day costs
about 30 us; only a day file not in memory is read from disk.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from common.schema import EndOfRun
from pv_simulator import run_records as records
from pv_simulator.writer import CsvStore
from store.format import OutputError

log = logging.getLogger(__name__)


@dataclass
class MeterEnd:
    """What one meter of a run announced, and how many of its readings are not on disk yet.

    Instants are epoch milliseconds: a run whose timestamps are not whole seconds
    completes like any other.
    """

    run_id: str
    meter_id: str
    first_ms: int
    last_ms: int
    interval_s: int
    readings: int
    remaining: int = -1
    """Announced readings not held yet (of the days counted so far and every row written since)."""
    counted_to_ms: int = -1
    """Instants before this were counted from the day files; later ones are counted when reached."""

    def __post_init__(self) -> None:
        if self.remaining < 0:
            self.remaining = self.readings
        if self.counted_to_ms < 0:
            self.counted_to_ms = self.first_ms

    @property
    def counting(self) -> bool:
        """Whether some days of the run were not counted yet."""
        return self.counted_to_ms <= self.last_ms

    def covers(self, epoch_ms: int) -> bool:
        """Whether an instant [epoch ms] is one of the announced readings."""
        return self.first_ms <= epoch_ms <= self.last_ms and (epoch_ms - self.first_ms) % (self.interval_s * 1000) == 0


@dataclass
class Run:
    """A meter process run: the meters it lists and those whose end was announced."""

    run_id: str
    meters: tuple[str, ...]
    ends: dict[str, MeterEnd] = field(default_factory=dict)
    resumed: bool = False
    """Loaded from an earlier process's record, not announced to this one (yet)."""
    abandoned: bool = False
    closed: bool = False
    """Complete, and its day files sorted and summarised (recorded as complete)."""
    failed: str | None = None
    """Why counting or closing the run failed (recorded, so no later start works on it again)."""

    @property
    def counting(self) -> bool:
        """Whether some announced days were not counted yet."""
        return any(end.counting for end in self.ends.values())

    @property
    def complete(self) -> bool:
        """Every listed meter announced its end and has every reading on disk."""
        return all(m in self.ends and not self.ends[m].counting and self.ends[m].remaining == 0
                   for m in self.meters)


class RunTracker:
    """Follows announced runs until every reading they name is written."""

    def __init__(self, state_dir: Path, store: CsvStore) -> None:
        self.state_dir = state_dir
        self.store = store
        self.runs: dict[str, Run] = {}
        self.closing: dict[str, Run] = {}
        """Complete runs whose day files are being sorted and summarised."""
        self._by_meter: dict[str, list[MeterEnd]] = {}
        self._to_count: deque[MeterEnd] = deque()
        self._unsaved: dict[str, Run] = {}
        self._finished: set[str] = set()  # run ids complete, abandoned or failed (on disk or popped here)
        self.failures = 0
        """Runs announced to this process that failed (records of earlier starts that fail are not counted)."""
        self.seen = False  # some run was announced, or resumed from disk
        self.announced = False  # some run was announced to this process
        loaded = self._load()
        if loaded:
            log.info("resuming %d unfinished run(s) from %s", loaded, self.state_dir)

    def _load(self) -> int:
        """Track the unfinished runs recorded on disk that this tracker does not know; returns how many.

        A record that cannot be used (unreadable, not a run record, instants outside the wire
        contract's range) is logged once, marked failed on disk and skipped: no record stops a start.
        """
        if not self.state_dir.is_dir():
            return 0
        loaded = 0
        for path in sorted(self.state_dir.glob("*.json")):
            if path.stem in self.runs or path.stem in self._finished:
                continue
            record = None
            try:
                record = records.read(path)
                if records.finished(record):
                    self._finished.add(path.stem)
                    continue
                meters, ends = records.ends_of(record, path.stem)
            except records.BadRecord as error:
                self._set_aside(path, record, str(error))
                continue
            run = self._run(path.stem, meters)
            run.resumed = True
            loaded += 1
            for end in ends:
                self._track(run, MeterEnd(**end))  # type: ignore[arg-type]
        if loaded:
            self.seen = True
        return loaded

    def _set_aside(self, path: Path, record: dict | None, reason: str) -> None:
        """A stored record cannot be used: log it once, mark it failed on disk, never read it again."""
        self._finished.add(path.stem)
        try:
            where = records.mark_failed(path, record, reason)
        except OutputError as error:
            log.error("run record %s cannot be used (%s), nor marked failed (%s); skipped until the next start",
                      path, reason, error)
            return
        log.error("run %r: its record cannot be used (%s); marked failed in %s, skipped", path.stem, reason, where)

    def unknown_records(self) -> bool:
        """Whether ``state_dir`` holds a record this tracker has not read (another PV simulator's)."""
        if not self.state_dir.is_dir():
            return False
        return any(path.stem not in self.runs and path.stem not in self._finished
                   for path in self.state_dir.glob("*.json"))

    def refresh(self) -> None:
        """Take in what another PV simulator sharing the output directory did.

        Reads run records this tracker does not know and counts every tracked run's
        readings on disk again. Call after :meth:`CsvStore.forget`, when this process
        takes over (a standby whose partner died, or one that woke from a pause).
        """
        loaded = self._load()
        self._by_meter.clear()
        self._to_count.clear()
        for run in self.runs.values():
            for end in run.ends.values():
                end.remaining, end.counted_to_ms = end.readings, end.first_ms  # counted again by advance()
                self._by_meter.setdefault(end.meter_id, []).append(end)
                self._to_count.append(end)
        if loaded:
            log.info("took over %d unfinished run(s) recorded by another PV simulator", loaded)

    def _run(self, run_id: str, meters: tuple[str, ...]) -> Run:
        run = self.runs.get(run_id) or self.closing.get(run_id)
        if run is None:
            run = self.runs[run_id] = Run(run_id, meters)
        return run

    def _track(self, run: Run, end: MeterEnd) -> None:
        if end.meter_id in run.ends:
            return
        run.ends[end.meter_id] = end
        self._by_meter.setdefault(end.meter_id, []).append(end)
        self._to_count.append(end)

    def announce(self, message: EndOfRun) -> None:
        """Record a meter's end of run (saved at the next :meth:`save`); its days are counted by :meth:`advance`."""
        run = self._run(message.run_id, tuple(message.meters))
        run.resumed = False
        end = MeterEnd(
            run_id=message.run_id,
            meter_id=message.meter_id,
            first_ms=round(message.first_timestamp.timestamp() * 1000),
            last_ms=round(message.last_timestamp.timestamp() * 1000),
            interval_s=message.interval_s,
            readings=message.readings,
        )
        self._track(run, end)
        self._unsaved[run.run_id] = run
        self.seen = self.announced = True
        log.info("meter %s announced the end of run %s: %d readings", end.meter_id, end.run_id, end.readings)

    @property
    def counting(self) -> bool:
        """Whether some announced days wait to be counted."""
        return bool(self._to_count)

    def advance(self, deadline: float, monotonic: Callable[[], float] = time.monotonic) -> bool:
        """Count held instants day by day until ``monotonic()`` passes ``deadline`` (the clock the deadline was
        taken on); True if work is left.

        At least one day is counted per call. Raises :class:`OutputError` if a day file
        that is not in memory cannot be read; any other error fails that run (:meth:`fail`).
        """
        while self._to_count:
            end = self._to_count[0]
            if not end.counting:
                self._to_count.popleft()
                continue
            try:
                self._count_one_day(end)
            except OutputError:
                raise
            except Exception as error:  # this run's failure, not the service's
                self._to_count.popleft()
                run = self.runs.get(end.run_id)
                if run is not None:
                    self.fail(run, f"counting the readings of {end.meter_id} failed: {error!r}")
            if monotonic() >= deadline:
                break
        return bool(self._to_count)

    def _count_one_day(self, end: MeterEnd) -> None:
        day, _start_s, end_s = next(iter(self.store.dates_between(end.counted_to_ms / 1000, end.last_ms / 1000)))
        day_file = self.store.existing(end.meter_id, day)
        if day_file is not None:
            end.remaining -= day_file.count_aligned_ms(end.counted_to_ms, end.last_ms, end.interval_s * 1000)
        grid_ms = end.interval_s * 1000
        # The next grid instant at or after the day's end: counted when its day is reached.
        end.counted_to_ms = end.first_ms + -(-(end_s * 1000 - end.first_ms) // grid_ms) * grid_ms
        if not end.counting:
            log.debug("meter %s of run %s counted: %d readings not written yet",
                      end.meter_id, end.run_id, end.remaining)

    def written(self, meter_id: str, epoch_ms: int) -> None:
        """A new reading of ``meter_id`` at ``epoch_ms`` was queued for writing."""
        ends = self._by_meter.get(meter_id)
        if not ends:
            return
        for end in ends:
            if epoch_ms < end.counted_to_ms and end.covers(epoch_ms):
                end.remaining -= 1
        if any(end.remaining <= 0 and not end.counting for end in ends):
            self._by_meter[meter_id] = [end for end in ends if end.remaining > 0 or end.counting]

    def save(self) -> None:
        """Write changed run records (atomically, fsynced). Raises :class:`OutputError`."""
        for run_id, run in sorted(self._unsaved.items()):
            record = {
                "run_id": run.run_id,
                "meters": list(run.meters),
                "complete": run.closed,
                "abandoned": run.abandoned,
                "ends": {m: {k: getattr(e, k) for k in (*records.END_FIELDS, "remaining")}
                         for m, e in run.ends.items()},
            }
            if run.failed is not None:
                record["failed"] = run.failed
            records.write(self.state_dir / f"{run_id}.json", record)
        self._unsaved.clear()

    def pop_complete(self, record: bool = True) -> list[Run]:
        """Runs complete on disk since the last call; they stay in :attr:`closing` until recorded.

        With ``record=True`` they are marked complete at the next save. With ``record=False``
        the caller marks each later with :meth:`record_complete` (the PV simulator does so
        once the run's day files are summarised and its results published), so a crash
        before that leaves the run unfinished on disk and the next start completes it again.
        """
        done = [run for run in self.runs.values() if run.complete]
        for run in done:
            del self.runs[run.run_id]
            self._finished.add(run.run_id)
            self.closing[run.run_id] = run
            if record:
                self.record_complete(run)
        return done

    def record_complete(self, run: Run) -> None:
        """Mark a run returned by :meth:`pop_complete` complete (closed) at the next :meth:`save`."""
        run.closed = True
        self.closing.pop(run.run_id, None)
        self._unsaved[run.run_id] = run

    def stale(self) -> list[Run]:
        """Unfinished runs resumed from disk when every run announced to this process is complete.

        A resumed run whose days are still being counted is not stale yet.
        """
        current = [run for run in self.runs.values() if not run.resumed]
        resumed = [run for run in self.runs.values() if run.resumed]
        if current or self.closing or not self.announced or any(run.counting for run in resumed):
            return []
        return resumed

    def abandon(self, runs: list[Run]) -> None:
        """Give up on ``runs`` (their missing readings will never come); recorded at the next save."""
        for run in runs:
            missing = {m: e.remaining for m, e in run.ends.items() if e.remaining}
            log.warning("giving up on run %s from an earlier start: readings never arrived (%s); "
                        "its record stays in %s", run.run_id,
                        ", ".join(f"{m}: {n} missing" for m, n in missing.items()) or "end not announced",
                        self.state_dir)
            run.abandoned = True
            self._drop(run)

    def fail(self, run: Run, reason: str) -> None:
        """Counting or closing ``run`` failed: log it once, stop working on it, record it failed at the next save.

        Its rows stay on disk. To try again, delete the record's ``failed`` field and restart.
        """
        log.error("run %s failed: %s; recorded as failed in %s, every other run goes on",
                  run.run_id, reason, self.state_dir / f"{run.run_id}.json")
        run.failed = reason
        if not run.resumed:
            self.failures += 1
        self._drop(run)

    @property
    def failed_unsaved(self) -> bool:
        """Some run failed and its record is not written yet."""
        return any(run.failed is not None for run in self._unsaved.values())

    def _drop(self, run: Run) -> None:
        """Stop following ``run`` (abandoned or failed); its record is written at the next save."""
        self.runs.pop(run.run_id, None)
        self.closing.pop(run.run_id, None)
        self._finished.add(run.run_id)
        self._unsaved[run.run_id] = run
        for meter_id in run.ends:
            self._by_meter[meter_id] = [e for e in self._by_meter.get(meter_id, []) if e.run_id != run.run_id]
        self._to_count = deque(e for e in self._to_count if e.run_id != run.run_id)

    @property
    def all_done(self) -> bool:
        """At least one run was announced (or resumed) and every such run is complete and closed."""
        return self.seen and not self.runs and not self.closing
