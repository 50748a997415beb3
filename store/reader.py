"""Reading day files (one reader, two forms): :func:`read_day_csv`, a whole file as a pandas DataFrame (the report,
the summaries, ``api import``), and :func:`read_meter_day`, one meter's day as NumPy arrays of instants and powers,
vectorised and strict (the grid's inputs: 86,400 rows in well under a second).

A day file is ``<output_dir>/<meter_id>/<YYYY-MM-DD>.csv`` (:mod:`store.layout`) with the header
:data:`store.format.HEADER` or :data:`store.format.BATTERY_HEADER`: local timestamps with their UTC offset, rows in
any order (a late or redelivered reading is appended at the end of its file). The writer's own row parser, for
its index, is :func:`store.format.parse_row`.

:func:`read_meter_day` parses with NumPy: the fixed-width timestamps and pvsim's fixed-decimal powers as byte
matrices (``pd.to_datetime`` took 0.7 s of a 1.1 s read per 86,400-row file here); powers in another number
format fall back to pandas.
"""

from __future__ import annotations

import calendar
import io
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from common.clock import LocalDay
from store import format as day_format

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ("timestamp", "meter_id", "meter_power_kw", "pv_power_kw", "net_power_kw")
"""Columns of a day CSV (see :data:`store.format.HEADER`)."""


def read_day_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A day CSV as a DataFrame sorted by time, with an added ``utc`` column (tz-aware instants).

    Raises
    ------
    OSError
        If the file cannot be read.
    ValueError
        If it lacks a column of :data:`COLUMNS` or holds an unparsable timestamp.
    """
    import pandas as pd  # only the report and api import need pandas; the PV simulator and grid do not

    frame = pd.read_csv(path, dtype={"timestamp": str, "meter_id": str})
    missing = [column for column in COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(f"{path}: not a pvsim day CSV (missing columns: {', '.join(missing)})")
    frame["utc"] = pd.to_datetime(frame["timestamp"], format="ISO8601", utc=True)
    # A late or redelivered reading is appended at the end of its file: restore time order.
    return frame.sort_values("utc", kind="stable", ignore_index=True)


_HEADER_LINE = day_format.HEADER.removesuffix("\n").encode()
"""The first line of a day file (:data:`store.format.HEADER`), as bytes without its line end."""
_BATTERY_HEADER_LINE = day_format.BATTERY_HEADER.removesuffix("\n").encode()
"""The first line of a day file with a home battery (:data:`store.format.BATTERY_HEADER`): :func:`read_meter_day`
counts its power (positive while charging) as the building's load."""

_WIDTH = 25  # len("2026-06-21T00:00:00+02:00")


class DayFileError(ValueError):
    """A day file is missing or unreadable; the message names the file (and the line)."""


def read_meter_day(path: Path, meter_id: str, day: LocalDay,
                   battery_in_load: bool = True) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """One meter's day CSV: epoch seconds (n,) and [meter_power_kw, pv_power_kw] (n, 2) [kW], in file order.

    In a file with a battery (:data:`store.format.BATTERY_HEADER`) the battery's power is added to the meter's, so the
    building's load is what it draws behind the meter including its battery (load - PV = the file's net); with
    ``battery_in_load=False`` the meter column as written (the PV simulator replays the battery from it).

    Raises
    ------
    DayFileError
        Unreadable file, wrong header, a row that does not parse, a timestamp outside the
        day or with the wrong UTC offset, another meter's id, or a non-finite power.
    """
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DayFileError(f"cannot read {path}: {error.strerror or error}") from None
    first, _, body = raw.partition(b"\n")
    if first.rstrip(b"\r") not in (_HEADER_LINE, _BATTERY_HEADER_LINE):
        raise DayFileError(f"{path}: header is not '{_HEADER_LINE.decode()}' (or with the battery's two columns)")
    battery = first.rstrip(b"\r") == _BATTERY_HEADER_LINE
    if not body.strip():
        raise DayFileError(f"{path}: no readings")
    starts, ends = _line_bounds(body)
    powers = _fixed_decimal_powers(body, starts, ends, battery, battery_in_load)
    if powers is None:  # not pvsim's own number format: let pandas parse it
        powers = _pandas_powers(raw, path, battery, battery_in_load)
    rows = _row_bytes(body, starts, len(meter_id))
    if rows.shape[0] != powers.shape[0]:
        raise DayFileError(f"{path}: unreadable rows (blank or broken lines)")
    epoch_s = _parse_timestamps(rows[:, :_WIDTH], path, day)
    expected_id = np.frombuffer(b"," + meter_id.encode() + b",", dtype=np.uint8)
    wrong_id = (rows[:, _WIDTH:] != expected_id).any(axis=1)
    bad = ~np.isfinite(powers).all(axis=1)
    for problem, what in ((wrong_id, f"meter_id is not {meter_id}"), (bad, "power is not a number")):
        if problem.any():
            raise DayFileError(f"{path} line {int(np.argmax(problem)) + 2}: {what}")
    return epoch_s, powers


def _pandas_powers(raw: bytes, path: Path, battery: bool = False,
                   battery_in_load: bool = True) -> npt.NDArray[np.float64]:
    import pandas as pd  # only for files in another number format

    """Meter (with the battery's power added) and PV power (n, 2) [kW] parsed by pandas; raises
    :class:`DayFileError` naming the first bad line."""
    columns = ["meter_power_kw", "pv_power_kw", *(["battery_power_kw"] if battery else [])]
    try:
        text = pd.read_csv(io.BytesIO(raw), usecols=columns, dtype=str, engine="c",
                           skip_blank_lines=False, keep_default_na=False)[columns]
    except (ValueError, pd.errors.ParserError) as error:
        raise DayFileError(f"{path}: unreadable rows ({str(error).splitlines()[0].strip()})") from None
    numbers = text.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(numbers).all(axis=1)
    if bad.any():
        line = int(np.argmax(bad))
        raise DayFileError(f"{path} line {line + 2}: power is not a number "
                         f"({','.join(text.iloc[line].astype(str))!r})")
    if battery:
        numbers = np.stack([numbers[:, 0] + numbers[:, 2] if battery_in_load else numbers[:, 0], numbers[:, 1]],
                           axis=1)
    return numbers


def _line_bounds(body: bytes) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Start and end (exclusive, without ``\\r\\n``) of each line of ``body``."""
    buffer = np.frombuffer(body, dtype=np.uint8)
    ends = np.flatnonzero(buffer == ord("\n"))
    if not body.endswith(b"\n"):
        ends = np.append(ends, len(body))
    starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
    stripped = ends.copy()
    if len(ends):
        carriage = buffer[np.maximum(ends - 1, 0)] == ord("\r")
        stripped[carriage & (ends > starts)] -= 1
    return starts, stripped.astype(np.int64)


_NUMBER_WIDTH = 14  # enough for ±99999999.9999 kW


def _fixed_decimal_powers(body: bytes, starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64],
                          battery: bool = False, battery_in_load: bool = True) -> npt.NDArray[np.float64] | None:
    """Columns 3 and 4 (meter and PV power [kW]) when every row is ``ts,id,-?D+.DDDD,-?D+.DDDD,-?D+.DDDD``
    (and, with a ``battery``, two more such columns; its power, column 6, is added to the meter's).

    The format pvsim writes; returns ``None`` for anything else (the caller falls back to pandas).
    """
    buffer = np.frombuffer(body, dtype=np.uint8)
    positions = np.flatnonzero(buffer == ord(","))
    rows, per_row = starts.shape[0], 6 if battery else 4
    if positions.shape[0] != per_row * rows:
        return None
    commas = positions.reshape(rows, per_row)
    if rows and not ((commas[:, 0] > starts) & (commas[:, -1] < ends)).all():
        return None
    columns = []
    fields = [(commas[:, 1] + 1, commas[:, 2]), (commas[:, 2] + 1, commas[:, 3])]
    if battery and battery_in_load:
        fields.append((commas[:, 4] + 1, commas[:, 5]))
    for first, last in fields:
        value = _parse_fixed(buffer, first, last)
        if value is None:
            return None
        columns.append(value)
    if battery and battery_in_load:
        columns = [columns[0] + columns[2], columns[1]]
    return np.stack(columns, axis=1)


def _parse_fixed(buffer: npt.NDArray[np.uint8], first: npt.NDArray[np.int64],
                 last: npt.NDArray[np.int64]) -> npt.NDArray[np.float64] | None:
    """Numbers ``-?D+.DDDD`` at ``buffer[first:last]`` of each row, or ``None`` if any is not one.

    Rows are grouped by width (a handful of widths per file), so each group is one
    fixed-width (n, width) byte matrix.
    """
    width = last - first
    values = np.empty(first.shape[0])
    for size in np.unique(width).tolist():
        if not 6 <= size <= _NUMBER_WIDTH:
            return None
        rows = np.flatnonzero(width == size)
        chars = buffer[first[rows, None] + np.arange(size)]
        if not (chars[:, size - 5] == ord(".")).all():
            return None
        negative = chars[:, 0] == ord("-")
        figures = np.delete(chars, size - 5, axis=1) - np.uint8(ord("0"))  # non-digits wrap above 9
        figures[negative, 0] = 0
        if (figures > 9).any():
            return None
        magnitude = figures.astype(np.int64) @ (10 ** np.arange(size - 2, -1, -1, dtype=np.int64))
        values[rows] = np.where(negative, -magnitude, magnitude) / 10_000.0
    return values


def _row_bytes(body: bytes, starts: npt.NDArray[np.int64], id_len: int) -> npt.NDArray[np.uint8]:
    """(rows, 25 + id_len + 2) the leading bytes of each row (rows shorter than that are padded with 0)."""
    width = _WIDTH + id_len + 2
    buffer = np.frombuffer(body + b"\0" * width, dtype=np.uint8)
    index = np.int32 if buffer.shape[0] < 2**31 else np.int64  # half the index memory for the usual file
    return buffer[np.add(starts.astype(index)[:, None], np.arange(width, dtype=index))]


_FIXED_COLUMNS = np.array([*range(11), 13, 16, 22])  # the date, "T" and the colons
_TIME_COLUMNS = np.array([11, 12, 14, 15, 17, 18, 20, 21, 23, 24])  # HH MM SS of the time, HH MM of the offset
_TIME_WEIGHTS = np.array([[36_000, 3_600, 600, 60, 10, 1, 0, 0, 0, 0],
                          [0, 0, 0, 0, 0, 0, 36_000, 3_600, 600, 60]], dtype=np.int64).T


def _parse_timestamps(text: npt.NDArray[np.uint8], path: Path, day: LocalDay) -> npt.NDArray[np.int64]:
    template = np.frombuffer(f"{day.day.isoformat()}T00:00:00+00:00".encode(), dtype=np.uint8)
    digits = text[:, _TIME_COLUMNS] - np.uint8(ord("0"))  # non-digits wrap above 9
    ok = (text[:, _FIXED_COLUMNS] == template[_FIXED_COLUMNS]).all(axis=1)
    ok &= (digits <= 9).all(axis=1) & ((text[:, 19] == ord("+")) | (text[:, 19] == ord("-")))
    if not ok.all():
        line = int(np.argmin(ok))
        raise DayFileError(f"{path} line {line + 2}: timestamp is not {day.day.isoformat()}THH:MM:SS+HH:MM "
                         f"(got {bytes(text[line]).decode(errors='replace')!r})")
    seconds = digits.astype(np.int64) @ _TIME_WEIGHTS
    wall_s = seconds[:, 0]
    offset_s = np.where(text[:, 19] == ord("-"), -1, 1) * seconds[:, 1]
    midnight_utc = calendar.timegm(day.day.timetuple())
    epoch_s = midnight_utc + wall_s - offset_s
    inside = (epoch_s >= day.start_s) & (epoch_s < day.end_s) & (wall_s < 86_400)
    inside[inside] &= day.utc_offset_s(epoch_s[inside]) == offset_s[inside]
    if not inside.all():
        line = int(np.argmin(inside))
        raise DayFileError(f"{path} line {line + 2}: {bytes(text[line]).decode()} is not a time of "
                         f"{day.day.isoformat()} in {day.tz.key}")
    return epoch_s


def read_tail(handle: io.BufferedRandom, offset: int, header: str, path: str, truncate: bool) -> tuple[list[str], int]:
    """The rows of the open day file ``handle`` (at ``path``, with ``header``) from byte ``offset`` on, without
    the header, and the bytes they take (the day file's index reads what other processes appended).

    An incomplete last line is left out; with ``truncate`` (the lock held, so no writer is in the middle of it)
    it is cut off: a crashed writer left it. Raises :class:`~store.format.OutputError`.
    """
    handle.seek(offset)
    data = handle.read()
    if data and not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
        if truncate:
            log.warning("%s: dropping an incomplete last line (%d bytes) left by an interrupted write",
                        path, len(data) - keep)
            handle.truncate(offset + keep)
        data = data[:keep]
    try:
        lines = data.decode().splitlines()
    except UnicodeDecodeError as error:
        raise day_format.OutputError(f"{path} is not UTF-8 text ({error.reason}); move it away") from None
    if offset == 0 and lines:
        if lines[0] + "\n" != header:
            raise day_format.OutputError(f"{path} exists but is not a pvsim CSV (unexpected header); move it away")
        lines = lines[1:]
    return lines, len(data)
