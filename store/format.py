"""The day file's format: its CSV headers, the row formatters, the writer's row parser and the summary JSON text
(one definition each; whole files are read by :mod:`store.reader`).

``<output_dir>/<meter_id>/<YYYY-MM-DD>.csv`` starts with :data:`HEADER` (or :data:`BATTERY_HEADER`); each row is
a local timestamp with its UTC offset, the meter id and powers in kW with 4 decimals. Powers are kept as
integers of 0.1 W and printed exactly, so ``net_power_kw`` is exactly ``meter_power_kw - pv_power_kw`` as printed.
The broker pipeline (:mod:`pv_simulator.writer`) and batch mode (:mod:`batch.tasks`) write with the same
formatters, so their files are byte-identical.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from common.clock import LocalDay

if TYPE_CHECKING:  # only for the annotation: the API's image (grid/ reads day files) ships no models/
    from models.balance import DaySummary

HEADER = "timestamp,meter_id,meter_power_kw,pv_power_kw,net_power_kw\n"
"""Header of a day file: net = meter - PV."""
BATTERY_HEADER = HEADER.removesuffix("\n") + ",battery_power_kw,battery_soc_kwh\n"
"""Header of a day file with a battery: net = meter - PV + battery; battery power positive while charging."""
SMALL_BATCH_ROWS = 16
"""Rows written to one file at once below which their text is made and their interval sums counted row by row
(NumPy's fixed cost per call is more than a few rows cost one by one); from it on, vectorised."""


class OutputError(RuntimeError):
    """A day file (CSV or JSON) or a result file could not be read or written; the message names the path."""


@lru_cache(maxsize=1)
def wall_clock_text() -> tuple[str, ...]:
    """``'HH:MM:SS'`` for each second of a day (shared table)."""
    two = [f"{n:02d}" for n in range(60)]
    minutes = [f"{m}:{s}" for m in two for s in two]  # "MM:SS" of an hour
    return tuple(f"{h}:{rest}" for h in two[:24] for rest in minutes)  # 15 ms at a start; formatting each second: 80


@lru_cache(maxsize=64)
def offset_text(offset_s: int) -> str:
    sign = "+" if offset_s >= 0 else "-"
    minutes = abs(offset_s) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def format_kw(value_dw: int) -> str:
    """Power in 0.1 W units -> kW text with 4 decimals (``12345`` -> ``'1.2345'``)."""
    return f"{value_dw / 10_000:.4f}"


def timestamp_text(day: LocalDay, ms: int, prefix: str | None = None) -> str:
    """The row's timestamp text of an instant [epoch ms] within ``day``: local time with its UTC offset.

    ``prefix``: ``day``'s ``'YYYY-MM-DDT'`` if the caller keeps it (made here otherwise)."""
    second, rest = divmod(ms, 1000)
    offset_s = day.offset_at_s(second)
    clock = wall_clock_text()[(second + offset_s) % 86_400] + (f".{rest:03d}" if rest else "")
    return f"{day.day.isoformat() + 'T' if prefix is None else prefix}{clock}{offset_text(offset_s)}"


def format_day_rows(meter_id: str, day: LocalDay, values: np.ndarray, prefix: str | None = None,
                    battery: tuple[np.ndarray, np.ndarray] | None = None) -> bytes:
    """CSV rows (no header) of readings (n, 3): instant [epoch ms], meter and PV power [0.1 W], in the given order.

    Vectorised (:func:`format_rows`) from :data:`SMALL_BATCH_ROWS` whole-second rows on, row by row below or
    with sub-second instants; the bytes are the same either way. ``prefix`` as in :func:`timestamp_text`;
    ``battery`` as in :func:`format_rows`."""
    if len(values) >= SMALL_BATCH_ROWS and not (values[:, 0] % 1000).any():
        return format_rows(meter_id, day, values[:, 0] // 1000, values[:, 1], values[:, 2], battery)
    if prefix is None:
        prefix = day.day.isoformat() + "T"
    if battery is None:
        return "".join(
            f"{timestamp_text(day, ms, prefix)},{meter_id},"
            f"{meter_dw / 10_000:.4f},{pv_dw / 10_000:.4f},{(meter_dw - pv_dw) / 10_000:.4f}\n"
            for ms, meter_dw, pv_dw in values.tolist()
        ).encode()
    return "".join(
        f"{timestamp_text(day, ms, prefix)},{meter_id},{meter_dw / 10_000:.4f},{pv_dw / 10_000:.4f},"
        f"{(meter_dw - pv_dw + battery_dw) / 10_000:.4f},{battery_dw / 10_000:.4f},{soc_dw / 10_000:.4f}\n"
        for (ms, meter_dw, pv_dw), battery_dw, soc_dw in zip(values.tolist(), battery[0].tolist(),
                                                             battery[1].tolist(), strict=True)
    ).encode()


# A column of CSV text, vectorised: (rows, width) bytes, 0-padded (the padding is dropped when rows are joined,
# so numbers need no fixed width). Needed because a day at 1 s has 86,400 rows and a feeder's buildings file
# millions: DataFrame.to_csv took 45 s for 3.5 million rows here, these NumPy byte operations under 2 s.
Matrix = npt.NDArray[np.uint8]


@lru_cache(maxsize=1)
def _wall_clock_matrix() -> Matrix:
    """:func:`wall_clock_text` as a (86400, 8) byte matrix (shared by every day)."""
    return np.frombuffer("".join(wall_clock_text()).encode(), dtype=np.uint8).reshape(86_400, 8)


def decimals(scaled: npt.ArrayLike, places: int) -> Matrix:
    """The text of integers ``scaled`` (n,) divided by ``10**places``, exactly: ``-?D+`` and, with ``places``,
    ``.`` and that many digits (``decimals([12345], 4)`` is ``1.2345``; a power of 12345 [0.1 W] in kW)."""
    values = np.asarray(scaled, dtype=np.int64)
    whole, fraction = np.divmod(np.abs(values), 10**places)
    width = len(str(int(whole.max(initial=0))))
    columns = [np.where(values < 0, ord("-"), 0)]
    for power in range(width - 1, -1, -1):  # leading zeros of the whole part (but its last digit) are padding
        digit = whole // 10**power % 10 + ord("0")
        columns.append(digit if power == 0 else np.where(whole >= 10**power, digit, 0))
    if places:
        columns.append(np.full_like(values, ord(".")))
        columns.extend(fraction // 10**power % 10 + ord("0") for power in range(places - 1, -1, -1))
    return np.column_stack(columns).astype(np.uint8)


def fixed(values: npt.ArrayLike, places: int) -> Matrix:
    """``f"{v:.{places}f}"`` of each value (n,) (``-0.000`` prints ``0.000``).

    Rounds ``v · 10**places`` half to even, so a value within float precision of a tie
    (99.99995 is 99.9999499… in binary) may print one unit of the last digit away from
    Python's exactly rounded text. Raises ValueError for non-finite values.
    """
    array = np.asarray(values, dtype=np.float64)
    if not np.isfinite(array).all():
        raise ValueError("cannot format non-finite values")
    return decimals(np.rint(array * 10.0**places).astype(np.int64), places)


def constant(text: str, rows: int) -> Matrix:
    """The same ``text`` in every row, (rows, len(text))."""
    encoded = text.encode()
    return np.broadcast_to(np.frombuffer(encoded, dtype=np.uint8), (rows, len(encoded)))


def labels(names: Sequence[str], which: npt.NDArray[np.int64]) -> Matrix:
    """``names[which[i]]`` in row i, (n, longest name), 0-padded."""
    table = np.array([name.encode() for name in names], dtype=bytes)
    return np.frombuffer(table.tobytes(), dtype=np.uint8).reshape(table.shape[0], table.dtype.itemsize)[which]


def timestamps(day: LocalDay, epoch_s: npt.NDArray[np.int64]) -> Matrix:
    """The rows' timestamps of whole-second instants [epoch s] within ``day``: local time with its UTC offset
    (``2026-06-21T14:00:00+02:00``), (n, 25); :func:`timestamp_text` of each, vectorised."""
    offsets_s = day.utc_offset_s(epoch_s)
    offsets, which = np.unique(offsets_s, return_inverse=True)  # one or two per day
    rows = epoch_s.shape[0]
    return np.hstack([constant(day.day.isoformat() + "T", rows), _wall_clock_matrix()[(epoch_s + offsets_s) % 86_400],
                      labels([offset_text(int(o)) for o in offsets.tolist()], which.reshape(-1))])


def join_rows(columns: Sequence[Matrix]) -> bytes:
    """Columns (each (n, w)) joined by commas into n lines of CSV text, padding dropped."""
    rows = columns[0].shape[0]
    comma = constant(",", rows)
    parts: list[Matrix] = []
    for column in columns:
        parts += [column, comma]
    parts[-1] = constant("\n", rows)
    matrix = np.hstack(parts)
    return matrix[matrix != 0].tobytes()


def format_rows(meter_id: str, day: LocalDay, timestamps_s: np.ndarray, meter_dw: np.ndarray,
                pv: np.ndarray, battery: tuple[np.ndarray, np.ndarray] | None = None) -> bytes:
    """CSV rows (no header) of whole-second instants (n,) [epoch s] within ``day`` with meter and PV power (n,)
    [0.1 W] each (:class:`~models.chain.BuildingPower`), vectorised: the same bytes as :func:`format_day_rows`
    gives them row by row. Batch mode writes its files with it, byte-identical to the broker pipeline's.

    ``battery``: (power [0.1 W], state of charge [0.1 Wh]) of each row (n,), appended as two columns and added
    to the net (see :data:`BATTERY_HEADER`)."""
    net = meter_dw - pv + (0 if battery is None else battery[0])
    return join_rows([
        timestamps(day, timestamps_s), constant(meter_id, timestamps_s.shape[0]),
        decimals(meter_dw, 4), decimals(pv, 4), decimals(net, 4),
        *([] if battery is None else [decimals(battery[0], 4), decimals(battery[1], 4)]),
    ])


def parse_row(line: str) -> tuple[int, str, int, int] | None:
    """(instant [epoch ms], timestamp text, meter power, PV power [0.1 W]) of a day file's row; None if malformed.

    The writer's fast path for its index, one line at a time; whole files are read by :mod:`store.reader`."""
    fields = line.split(",")
    try:
        ms = round(datetime.fromisoformat(fields[0]).timestamp() * 1000)
        return ms, fields[0], round(float(fields[2]) * 10_000), round(float(fields[3]) * 10_000)
    except (ValueError, IndexError):
        return None


def row_timestamps(body: bytes) -> Callable[[int], str]:
    """Row index -> timestamp text of CSV rows ``body`` (no header), for a summary's peaks."""
    lines = body.split(b"\n")
    return lambda i: lines[i].split(b",", 1)[0].decode()


def summary_json(summary: DaySummary, battery: dict[str, float | None] | None = None) -> str:
    """The text of a ``<YYYY-MM-DD>.summary.json`` file: the :class:`DaySummary` fields as indented JSON, and with
    a battery its figures under ``"battery"`` (:func:`models.battery_summary.battery_day_fields`)."""
    fields: dict[str, object] = dict(asdict(summary))
    if battery is not None:
        fields["battery"] = battery
    return json.dumps(fields, indent=2) + "\n"
