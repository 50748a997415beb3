"""``python -m api import``: load day CSVs already on disk into the web service's database.

Days written by batch mode or by an earlier run (``<output-dir>/<meter_id>/<YYYY-MM-DD>.csv``)
become the same interval rows the live feed stores (means over epoch-aligned intervals of
``--results-interval-s``), so the dashboard and the API can browse a year or a sweep. Rows of
the same meter and interval are replaced: importing twice changes nothing.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from api.settings import DatabaseSettings
from common.cli import parse_settings
from common.settings import ResultsIntervalSettings
from store.layout import find_csvs, is_grid_result
from store.reader import read_day_csv

log = logging.getLogger("api.import")

DESCRIPTION = (
    "Import the day CSVs under --output-dir (from batch mode or an earlier run) into the web service's database "
    "as interval results, the same rows the live feed stores, so the dashboard and the API show those days. "
    "Importing again replaces the same rows. Exit 2 on bad settings or a database that does not exist, "
    "1 if some files could not be read or the database is unreachable."
)


class ImportSettings(DatabaseSettings, ResultsIntervalSettings):
    """What ``python -m api import`` reads and where it stores it; see ``python -m api import --help``."""


BATTERY_POWER = "battery_power_kw"
BATTERY_SOC = "battery_soc_kwh"
"""The battery's columns of a day file with one (:data:`store.format.BATTERY_HEADER`)."""
_LAST_S = "last_s"


def interval_sums(frame: pd.DataFrame, interval_s: int) -> pd.DataFrame:
    """Row count and sums of one meter's readings per interval, indexed by interval start [epoch s].

    ``frame``: a day CSV as :func:`store.reader.read_day_csv` reads it (n rows, in time order).
    Columns of the result: ``readings`` and the sums of ``meter_power_kw``, ``pv_power_kw``,
    ``net_power_kw`` and of net's positive part (``import_power_kw``) and negated negative part
    (``export_power_kw``) [kW]; for a file with a battery also the sum of ``battery_power_kw`` [kW],
    the state of charge after the interval's latest row ``battery_soc_kwh`` [kWh] and that row's
    instant ``last_s`` [epoch s]. Sums, not means, so that an interval spread over two day files adds
    up (:func:`merge_sums`).
    """
    epoch_s = frame["utc"].astype("int64") // 10**9
    net = frame["net_power_kw"].astype(float)
    values = pd.DataFrame({
        "readings": 1, "meter_power_kw": frame["meter_power_kw"].astype(float),
        "pv_power_kw": frame["pv_power_kw"].astype(float), "net_power_kw": net,
        "import_power_kw": net.clip(lower=0.0), "export_power_kw": (-net).clip(lower=0.0),
    })
    if BATTERY_POWER in frame.columns:
        values[BATTERY_POWER] = frame[BATTERY_POWER].astype(float)
    keys = (epoch_s - epoch_s % interval_s).to_numpy()
    sums = values.groupby(keys).sum()
    if BATTERY_SOC in frame.columns:
        latest = pd.DataFrame({BATTERY_SOC: frame[BATTERY_SOC].astype(float), _LAST_S: epoch_s}).groupby(keys).last()
        sums[[BATTERY_SOC, _LAST_S]] = latest
    return sums


def merge_sums(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """One meter's :func:`interval_sums` of several day files as one: sums added, the latest state of charge."""
    both = pd.concat(parts)
    if _LAST_S not in both.columns:
        return both.groupby(level=0).sum(min_count=1)
    ordered = both.sort_values(_LAST_S, kind="stable")  # files without a battery (NaN) last: their SoC is NaN
    grouped = ordered.groupby(level=0)
    sums = grouped[[column for column in both.columns if column not in (BATTERY_SOC, _LAST_S)]].sum(min_count=1)
    sums[BATTERY_SOC] = grouped[BATTERY_SOC].last()
    return sums


def interval_rows(meter_id: str, sums: pd.DataFrame, interval_s: int, now: datetime) -> list[dict[str, Any]]:
    """Columns of :class:`api.db.models.Interval` for each interval of ``sums`` (means of its readings; the
    battery's columns None for intervals without one)."""
    means = sums.drop(columns=["readings", BATTERY_SOC, _LAST_S], errors="ignore").div(sums["readings"], axis=0)
    means[BATTERY_SOC] = sums[BATTERY_SOC] if BATTERY_SOC in sums.columns else float("nan")
    if BATTERY_POWER not in means.columns:
        means[BATTERY_POWER] = float("nan")
    return [{"meter_id": meter_id, "interval_start": datetime.fromtimestamp(int(start), UTC), "interval_s": interval_s,
             "readings": int(readings), **{str(name): _value(value) for name, value in row.items()},
             "updated_at": now}
            for (start, row), readings in zip(means.iterrows(), sums["readings"], strict=True)]


def _value(value: Any) -> float | None:
    return None if pd.isna(value) else float(value)


def import_days(output_dir: Path, interval_s: int, store: Any) -> tuple[int, int, int]:
    """Read every meter day CSV under ``output_dir`` and pass each meter's interval rows to ``store(rows)``.

    Returns (files read, files skipped as unreadable, interval rows stored). Grid result files
    (``<output-dir>/grid/``) and hidden folders are left out.
    """
    by_meter: dict[str, list[pd.DataFrame]] = {}
    read = skipped = 0
    for path in find_csvs(output_dir):
        if is_grid_result(path):
            continue
        try:
            frame = read_day_csv(path)
        except (OSError, ValueError) as error:
            print(f"api import: skipping {path}: {error}", file=sys.stderr)
            skipped += 1
            continue
        read += 1
        for meter_id, rows in frame.groupby("meter_id", sort=False):
            by_meter.setdefault(str(meter_id), []).append(interval_sums(rows, interval_s))
    stored = 0
    now = datetime.now(UTC)
    for meter_id, parts in by_meter.items():
        sums = merge_sums(parts)
        rows = interval_rows(meter_id, sums, interval_s, now)
        store(rows)
        stored += len(rows)
    return read, skipped, stored


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m api import``; returns the exit code."""
    settings = parse_settings(ImportSettings, argv, "api import", DESCRIPTION)
    if not settings.output_dir.is_dir():
        print(f"api import: error: --output-dir / PVSIM_OUTPUT_DIR: {settings.output_dir} is not a directory",
              file=sys.stderr)
        return 2
    settings.configure_logging()
    from api.db.engine import Database, DatabaseRefused, DatabaseUnavailable, migrate_with_retry
    from api.db.queries import upsert_intervals

    db = Database(settings.resolved_database_url())
    try:
        migrate_with_retry(db.engine, settings.database_timeout_s)
        read, skipped, stored = import_days(settings.output_dir, settings.results_interval_s,
                                            lambda rows: db.run(lambda session: upsert_intervals(session, rows)))
    except DatabaseRefused as error:
        print(f"api import: error: {error}", file=sys.stderr)
        return 2
    except DatabaseUnavailable as error:
        print(f"api import: error: {error}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    log.info("imported %d day file(s) from %s: %d interval(s) of %d s (%d file(s) skipped)", read,
             settings.output_dir, stored, settings.results_interval_s, skipped)
    return 1 if skipped else 0
