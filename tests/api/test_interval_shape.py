"""The interval result is restated in five places; they must name the same fields with the same optionality.

The wire's :class:`common.schema.IntervalResult` is the definition; the PV simulator's body
(:func:`pv_simulator.results.interval_body`), the API's :class:`api.schemas.IntervalOut` (and GraphQL's
``Interval``, generated from it), the table :class:`api.db.models.Interval`, the live feed's row
(:func:`api.live.consumer.interval_row`) and the importer's rows (:func:`api.importer.interval_rows`)
follow it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pandas as pd

from api.db.models import Interval
from api.importer import interval_rows, interval_sums
from api.live.consumer import interval_row
from api.schemas import IntervalOut
from common.schema import IntervalResult, parse_interval_result
from pv_simulator.results import Sums, interval_body

START = 1_782_000_000
NOW = datetime(2026, 6, 21, tzinfo=UTC)
STORED_ONLY = {"updated_at"}


def _wire_fields() -> dict[str, bool]:
    """Field name -> optional, of the wire contract (``meter_id`` and the rest; not the ``schema`` version)."""
    return {name: not field.is_required() for name, field in IntervalResult.model_fields.items()
            if name != "schema_version"}


def test_the_api_model_and_the_table_have_the_wire_contracts_fields_with_the_same_optionality() -> None:
    wire = _wire_fields()
    assert {name: not field.is_required() for name, field in IntervalOut.model_fields.items()} == wire
    columns = {column.name: bool(column.nullable) for column in Interval.__table__.columns
               if column.name not in STORED_ONLY}
    assert columns == wire


def test_the_pv_simulators_body_sends_every_field_when_a_battery_is_on_and_only_required_ones_plus_means_without(
        ) -> None:
    wire = _wire_fields()
    with_battery = orjson.loads(interval_body("m", START, 60, Sums(1, 1, 0, 2, battery_dw=1, battery_soc_dwh=1)))
    assert set(with_battery) - {"schema"} == set(wire)
    without = set(orjson.loads(interval_body("m", START, 60, Sums(1, 1, 0, 1)))) - {"schema"}
    assert without == set(wire) - {"battery_power_kw", "battery_soc_kwh"}


def test_the_live_feeds_row_and_the_importers_rows_fill_every_column() -> None:
    columns = {column.name for column in Interval.__table__.columns}
    result = parse_interval_result(interval_body("m", START, 60, Sums(1, 1, 0, 2, battery_dw=1, battery_soc_dwh=1)))
    assert set(interval_row(result, NOW)) == columns
    for battery in (False, True):
        frame = pd.DataFrame({"utc": pd.to_datetime([START], unit="s", utc=True), "meter_power_kw": [1.0],
                              "pv_power_kw": [0.0], "net_power_kw": [1.0]})
        if battery:
            frame["battery_power_kw"], frame["battery_soc_kwh"] = [0.0], [1.0]
        (row,) = interval_rows("m", interval_sums(frame, 60), 60, NOW)
        assert set(row) == columns, battery
