"""Run records on disk (``<output_dir>/.pvsim/runs/<run_id>.json``): read, checked, written, set aside.

A record holds what the meters of a run announced (:class:`~common.schema.EndOfRun`) and
whether the run is ``complete``, ``abandoned`` or ``failed`` (the reason, a string). Every
record read back is checked against the wire contract before it is used: a record that
cannot be read, is not a run record, or names instants outside the contract's range
(say one left by an older version, whose range ended at 9999-12-30) raises
:class:`BadRecord`, and the tracker marks it failed instead of working on it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from common.schema import InvalidMessage, parse_run_complete
from pv_simulator.results import run_complete_body
from store.durable import fsync_directory
from store.format import OutputError

END_FIELDS = ("run_id", "meter_id", "first_ms", "last_ms", "interval_s", "readings")
"""The fields of one meter's end of run in a record (instants in epoch milliseconds)."""
FAILED_SUFFIX = ".failed"
"""A record that is not even a JSON object is renamed to ``<run_id>.json.failed``, out of the way."""


class BadRecord(ValueError):
    """A stored run record that cannot be used; the message says why."""


def finished(record: dict[str, Any]) -> bool:
    """Whether a record's run needs no more work (complete, abandoned or failed)."""
    return bool(record.get("complete") or record.get("abandoned") or record.get("failed"))


def read(path: Path) -> dict[str, Any]:
    """The JSON object stored at ``path``. Raises :class:`BadRecord` if it cannot be read or is no object."""
    try:
        record = json.loads(path.read_bytes())
    except (OSError, ValueError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise BadRecord(f"cannot read it: {error}") from None
    if not isinstance(record, dict):
        raise BadRecord(f"a JSON {type(record).__name__}, not a run record")
    return record


def ends_of(record: dict[str, Any], stem: str) -> tuple[tuple[str, ...], list[dict[str, int | str]]]:
    """The meters of an unfinished run's record and each announced end (the :data:`END_FIELDS`).

    Each end is checked as the wire contract checks an :class:`~common.schema.EndOfRun`
    (instants within ``EARLIEST``..``LATEST``, consistent counts, valid ids).

    Raises
    ------
    BadRecord
        Saying what is wrong: a missing or mistyped field, a run id that is not the file's
        name, or an end the contract refuses.
    """
    try:
        run_id, meters, ends = record["run_id"], record["meters"], record["ends"]
        if run_id != stem:
            raise BadRecord(f"its run_id {run_id!r} is not its file name {stem!r}")
        if not isinstance(meters, list) or not all(isinstance(m, str) for m in meters) or not isinstance(ends, dict):
            raise BadRecord("meters must be a list of meter ids and ends an object")
        checked = []
        for meter_id, end in ends.items():
            if "first_ms" not in end:  # records written before instants were kept in ms
                end = dict(end, first_ms=end["first_s"] * 1000, last_ms=end["last_s"] * 1000)
            fields = {k: end[k] for k in END_FIELDS}
            if fields["meter_id"] != meter_id or fields["run_id"] != run_id:
                raise BadRecord(f"the end of {meter_id!r} names another meter or run")
            _check_end(fields, meters)
            checked.append(fields)
    except BadRecord:
        raise
    except (KeyError, TypeError, AttributeError) as error:
        raise BadRecord(f"not a run record ({type(error).__name__}: {error})") from None
    return tuple(meters), checked


def _check_end(end: dict[str, Any], meters: list[str]) -> None:
    """Raise :class:`BadRecord` unless the run-complete notice of ``end`` is one the wire contract accepts."""
    try:
        body = run_complete_body(end["run_id"], meters, end["meter_id"], end["readings"], end["interval_s"],
                                 end["first_ms"] / 1000, end["last_ms"] / 1000)
    except (OverflowError, ValueError, OSError, TypeError) as error:  # instants no date can hold
        raise BadRecord(f"the end of {end['meter_id']!r} has instants no date can hold ({error})") from None
    try:
        parse_run_complete(body)
    except InvalidMessage as error:
        raise BadRecord(f"the end of {end['meter_id']!r} breaks the wire contract: {error.reason}") from None


def write(path: Path, record: dict[str, Any]) -> None:
    """Write ``record`` to ``path`` atomically (temporary file, fsync, rename). Raises :class:`OutputError`."""
    try:
        if not path.parent.exists():
            path.parent.mkdir(parents=True)
            fsync_directory(path.parent.parent)
        temporary = path.with_suffix(".tmp")
        with temporary.open("w") as handle:
            json.dump(record, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        fsync_directory(path.parent)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from error


def mark_failed(path: Path, record: dict[str, Any] | None, reason: str) -> str:
    """Store that the run of the record at ``path`` failed, so no later start works on it again.

    A record that is a JSON object is rewritten with ``"failed": reason``; anything else is
    renamed to ``<name>.failed`` (its bytes kept for a look). Returns where it now is.
    Raises :class:`OutputError` if neither can be done.
    """
    if record is not None:
        write(path, {**record, "failed": reason})
        return str(path)
    aside = path.with_name(path.name + FAILED_SUFFIX)
    try:
        os.replace(path, aside)
        fsync_directory(path.parent)
    except OSError as error:
        raise OutputError(f"cannot rename {path}: {error.strerror or error}") from error
    return str(aside)
