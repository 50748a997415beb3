"""The grid result files of a day, written atomically (all temporary files first, then renamed).

``<dir>/<YYYY-MM-DD>.csv``: ``timestamp,grid_p_kw,grid_q_kvar,vm_min_pu,vm_max_pu,
trafo_loading_percent,line_loading_max_percent,losses_kw``; ``<YYYY-MM-DD>.buildings.csv``:
``timestamp,meter_id,vm_pu,p_kw,q_kvar``; ``<YYYY-MM-DD>.summary.json``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from grid.inputs import DayInputs
from grid.result import BUILDING_STATE, FEEDER_STATE
from grid.timeseries import DayResult
from store import format as csv_text
from store.format import OutputError
from store.layout import grid_day_paths

FEEDER_HEADER = ",".join(("timestamp", *FEEDER_STATE)) + "\n"
BUILDINGS_HEADER = ",".join(("timestamp", "meter_id", *BUILDING_STATE)) + "\n"
KW_DECIMALS = 4  # 0.1 W, as the meter CSVs
PU_DECIMALS = 6
PERCENT_DECIMALS = 3


def feeder_rows(timestamps: csv_text.Matrix, result: DayResult) -> bytes:
    """The feeder CSV's rows (no header)."""
    return csv_text.join_rows([
        timestamps,
        csv_text.fixed(result.grid_p_kw, KW_DECIMALS), csv_text.fixed(result.grid_q_kvar, KW_DECIMALS),
        csv_text.fixed(result.vm_min_pu, PU_DECIMALS), csv_text.fixed(result.vm_max_pu, PU_DECIMALS),
        csv_text.fixed(result.trafo_loading_percent, PERCENT_DECIMALS),
        csv_text.fixed(result.line_loading_max_percent, PERCENT_DECIMALS),
        csv_text.fixed(result.losses_kw, KW_DECIMALS),
    ])


def building_rows(timestamps: csv_text.Matrix, result: DayResult, steps: slice = slice(None)) -> bytes:
    """The buildings CSV's rows (no header) of intervals ``steps``: per interval, every building in order."""
    vm, p, q = result.vm_pu[steps], result.p_kw[steps], result.q_kvar[steps]
    count, buildings = vm.shape
    return csv_text.join_rows([
        np.repeat(timestamps[steps], buildings, axis=0),
        csv_text.labels(result.meter_ids, np.tile(np.arange(buildings), count)),
        csv_text.fixed(vm.reshape(-1), PU_DECIMALS),
        csv_text.fixed(p.reshape(-1), KW_DECIMALS),
        csv_text.fixed(q.reshape(-1), KW_DECIMALS),
    ])


ROWS_PER_WRITE = 100_000
"""Buildings CSV rows formatted at a time (bounds memory: about 25 MB of text and scratch)."""


def write_day(directory: Path, inputs: DayInputs, result: DayResult, summary: dict[str, Any]) -> list[Path]:
    """Write the day's three files into ``directory`` (created); returns their paths.

    Each file goes to a temporary name first; only when all three are written and synced
    are they renamed into place, so an error leaves no new file half-written (and the old
    ones, if any, untouched). Raises :class:`OutputError` naming the path.
    """
    timestamps = csv_text.timestamps(inputs.day, inputs.interval_starts_s)
    feeder_csv, buildings_csv, summary_json = grid_day_paths(directory, inputs.day.day)
    step = max(1, ROWS_PER_WRITE // max(1, len(result.meter_ids)))
    parts: dict[Path, Iterable[bytes]] = {
        feeder_csv: (FEEDER_HEADER.encode(), feeder_rows(timestamps, result)),
        buildings_csv: itertools.chain(
            (BUILDINGS_HEADER.encode(),),
            (building_rows(timestamps, result, slice(start, start + step)) for start in range(0, result.steps, step))),
        summary_json: ((json.dumps(summary, indent=1) + "\n").encode(),),
    }
    return write_files(directory, parts)


def write_files(directory: Path, parts: dict[Path, Iterable[bytes]]) -> list[Path]:
    """Write each file of ``parts`` (path -> its bytes in chunks) into ``directory`` (created) all-or-nothing.

    Every file goes to ``<name>.tmp`` first and is synced; only then are they all renamed
    into place. Returns the paths. Raises :class:`OutputError` naming the path.
    """
    written: list[Path] = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for path, chunks in parts.items():
            temporary = path.with_name(path.name + ".tmp")
            with temporary.open("wb") as handle:
                written.append(temporary)
                for chunk in chunks:
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
        for path in parts:
            os.replace(path.with_name(path.name + ".tmp"), path)
    except OSError as error:
        for temporary in written:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
        raise OutputError(f"cannot write {error.filename or directory}: {error.strerror or error}") from None
    return list(parts)
