"""Which meter runs are complete on disk, for ``--exit-when-done``.

A meter ends its run with an :class:`~common.schema.EndOfRun` naming how many
readings it published and when. A run is *complete* when, for every meter it lists,
each announced instant is in that meter's CSVs. Announcements are recorded under
``<output_dir>/.pvsim/runs/`` before they are acknowledged, so a PV simulator that
restarts still knows what it waits for.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from common.schema import EndOfRun
from pv_simulator.writer import CsvStore, OutputError, fsync_directory

log = logging.getLogger(__name__)


@dataclass
class MeterEnd:
    """What one meter of a run announced, and how many of its readings are not on disk yet."""

    run_id: str
    meter_id: str
    first_s: int
    last_s: int
    interval_s: int
    readings: int
    remaining: int = -1

    def covers(self, epoch_s: float) -> bool:
        """Whether an instant [epoch s] is one of the announced readings (all on whole seconds)."""
        whole = int(epoch_s)
        on_grid = (whole - self.first_s) % self.interval_s == 0
        return whole == epoch_s and self.first_s <= whole <= self.last_s and on_grid


@dataclass
class Run:
    """A meter process run: the meters it lists and those whose end was announced."""

    run_id: str
    meters: tuple[str, ...]
    ends: dict[str, MeterEnd] = field(default_factory=dict)
    resumed: bool = False
    """Loaded from an earlier process's record, not announced to this one (yet)."""
    abandoned: bool = False

    @property
    def complete(self) -> bool:
        """Every listed meter announced its end and has every reading on disk."""
        return all(m in self.ends and self.ends[m].remaining == 0 for m in self.meters)


class RunTracker:
    """Follows announced runs until every reading they name is written."""

    def __init__(self, state_dir: Path, store: CsvStore) -> None:
        self.state_dir = state_dir
        self.store = store
        self.runs: dict[str, Run] = {}
        self._by_meter: dict[str, list[MeterEnd]] = {}
        self._unsaved: dict[str, Run] = {}
        self._finished: set[str] = set()  # run ids complete or abandoned (on disk or popped here)
        self.seen = False  # some run was announced, or resumed from disk
        self.announced = False  # some run was announced to this process
        loaded = self._load()
        if loaded:
            log.info("resuming %d unfinished run(s) from %s", loaded, self.state_dir)

    def _load(self) -> int:
        """Track the unfinished runs recorded on disk that this tracker does not know; returns how many."""
        if not self.state_dir.is_dir():
            return 0
        loaded = 0
        for path in sorted(self.state_dir.glob("*.json")):
            if path.stem in self.runs or path.stem in self._finished:
                continue
            try:
                record = json.loads(path.read_text())
            except (OSError, ValueError) as error:
                log.warning("ignoring unreadable run record %s: %s", path, error)
                continue
            if record.get("complete") or record.get("abandoned"):
                self._finished.add(path.stem)
                continue
            run = self._run(record["run_id"], tuple(record["meters"]))
            run.resumed = True
            loaded += 1
            for end in record["ends"].values():
                self._track(run, MeterEnd(**{k: end[k] for k in
                                             ("run_id", "meter_id", "first_s", "last_s", "interval_s", "readings")}))
        if loaded:
            self.seen = True
        return loaded

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
        for run in self.runs.values():
            for end in run.ends.values():
                held = sum(f.count_aligned(end.first_s, end.last_s, end.interval_s)
                           for f in self.store.days_of(end.meter_id, end.first_s, end.last_s))
                end.remaining = end.readings - held
                if end.remaining > 0:
                    self._by_meter.setdefault(end.meter_id, []).append(end)
        if loaded:
            log.info("took over %d unfinished run(s) recorded by another PV simulator", loaded)

    def _run(self, run_id: str, meters: tuple[str, ...]) -> Run:
        run = self.runs.get(run_id)
        if run is None:
            run = self.runs[run_id] = Run(run_id, meters)
        return run

    def _track(self, run: Run, end: MeterEnd) -> None:
        if end.meter_id in run.ends:
            return
        held = sum(f.count_aligned(end.first_s, end.last_s, end.interval_s)
                   for f in self.store.days_of(end.meter_id, end.first_s, end.last_s))
        end.remaining = end.readings - held
        run.ends[end.meter_id] = end
        if end.remaining > 0:
            self._by_meter.setdefault(end.meter_id, []).append(end)

    def announce(self, message: EndOfRun) -> None:
        """Record a meter's end of run (saved at the next :meth:`save`)."""
        run = self._run(message.run_id, tuple(message.meters))
        run.resumed = False
        end = MeterEnd(
            run_id=message.run_id,
            meter_id=message.meter_id,
            first_s=int(message.first_timestamp.timestamp()),
            last_s=int(message.last_timestamp.timestamp()),
            interval_s=message.interval_s,
            readings=message.readings,
        )
        self._track(run, end)
        self._unsaved[run.run_id] = run
        self.seen = self.announced = True
        log.info("meter %s announced the end of run %s: %d readings, %d not written yet",
                 end.meter_id, end.run_id, end.readings, end.remaining)

    def written(self, meter_id: str, epoch_s: float) -> None:
        """A new reading of ``meter_id`` at ``epoch_s`` was queued for writing."""
        ends = self._by_meter.get(meter_id)
        if not ends:
            return
        for end in ends:
            if end.covers(epoch_s):
                end.remaining -= 1
        if any(end.remaining <= 0 for end in ends):
            self._by_meter[meter_id] = [end for end in ends if end.remaining > 0]

    def save(self) -> None:
        """Write changed run records (atomically, fsynced). Raises :class:`OutputError`."""
        for run_id, run in sorted(self._unsaved.items()):
            record = {
                "run_id": run.run_id,
                "meters": list(run.meters),
                "complete": run.complete,
                "abandoned": run.abandoned,
                "ends": {m: {k: getattr(e, k) for k in
                             ("run_id", "meter_id", "first_s", "last_s", "interval_s", "readings", "remaining")}
                         for m, e in run.ends.items()},
            }
            path = self.state_dir / f"{run_id}.json"
            try:
                if not self.state_dir.exists():
                    self.state_dir.mkdir(parents=True)
                    fsync_directory(self.state_dir.parent)
                temporary = path.with_suffix(".tmp")
                with temporary.open("w") as handle:
                    json.dump(record, handle, indent=1)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, path)
                fsync_directory(self.state_dir)
            except OSError as error:
                raise OutputError(f"cannot write {path}: {error.strerror or error}") from error
        self._unsaved.clear()

    def pop_complete(self, record: bool = True) -> list[Run]:
        """Runs complete on disk since the last call; their records are marked complete at the next save.

        With ``record=False`` the caller marks each later with :meth:`record_complete` (the PV
        simulator does so once the run's results are published), so a crash before that
        leaves the run unfinished on disk and the next start completes it again.
        """
        done = [run for run in self.runs.values() if run.complete]
        for run in done:
            del self.runs[run.run_id]
            self._finished.add(run.run_id)
            if record:
                self._unsaved[run.run_id] = run
        return done

    def record_complete(self, run: Run) -> None:
        """Mark a run returned by ``pop_complete(record=False)`` complete at the next :meth:`save`."""
        self._unsaved[run.run_id] = run

    def stale(self) -> list[Run]:
        """Unfinished runs resumed from disk when every run announced to this process is complete."""
        current = [run for run in self.runs.values() if not run.resumed]
        resumed = [run for run in self.runs.values() if run.resumed]
        return resumed if current == [] and self.announced else []

    def abandon(self, runs: list[Run]) -> None:
        """Give up on ``runs`` (their missing readings will never come); recorded at the next save."""
        for run in runs:
            missing = {m: e.remaining for m, e in run.ends.items() if e.remaining}
            log.warning("giving up on run %s from an earlier start: readings never arrived (%s); "
                        "its record stays in %s", run.run_id,
                        ", ".join(f"{m}: {n} missing" for m, n in missing.items()) or "end not announced",
                        self.state_dir)
            run.abandoned = True
            del self.runs[run.run_id]
            self._finished.add(run.run_id)
            self._unsaved[run.run_id] = run
            for meter_id in run.ends:
                self._by_meter[meter_id] = [e for e in self._by_meter.get(meter_id, []) if e.run_id != run.run_id]

    @property
    def all_done(self) -> bool:
        """At least one run was announced and every announced run is complete."""
        return self.seen and not self.runs
