"""Each domain shape is defined once; every restatement of it is derived from that definition or checked here.

Units are in the field names ([W], [kW], [kvar], [pu], [%], [s]), so equal names with equal types are
equal units. Each test compares one shape's fields, name and type, across the places that carry it: a
field added to one and not the others fails here, naming the place that lacks it.

==============  ====================================  ==================================================
shape           defined once in                       restated (checked here)
==============  ====================================  ==================================================
reading         ``common.schema.Reading``             the meter's body (``common.schema.reading_body``)
end of run      ``common.schema.EndOfRun``            ``RunComplete`` subclasses it; PV run records
interval        ``common.schema.IntervalResult``      REST ``IntervalOut``, GraphQL ``Interval``, ORM
                                                      ``Interval``, ``interval_row``, the importer's rows,
                                                      the PV simulator's body (``interval_body``)
run             ``common.schema.RunComplete``         REST ``RunOut``, ORM ``RunRecord``, ``run_row``,
                                                      the PV simulator's body (``run_complete_body``)
grid result     ``grid.result`` (``FEEDER_STATE``,    REST ``GridResultOut`` / ``BuildingState``, ORM
                ``BUILDING_STATE``)                   ``GridResult``, GraphQL ``GridResult``,
                                                      ``grid_row``, ``DayResult``, the grid CSV headers
==============  ====================================  ==================================================
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import UTC, datetime
from typing import Any

import orjson
import pandas as pd
import pydantic
from sqlalchemy import inspect
from sqlalchemy.orm import DeclarativeBase
from strawberry.types.base import StrawberryList, StrawberryOptional

from api.db import models
from api.graphql import schema as graphql
from api.importer import interval_rows, interval_sums
from api.live.consumer import interval_row, run_row
from api.live.grid import grid_row
from api.schemas import BuildingState, GridResultOut, IntervalOut, RunOut
from common.schema import (
    EndOfRun,
    IntervalResult,
    Reading,
    RunComplete,
    parse_interval_result,
    parse_reading,
    parse_run_complete,
    reading_body,
)
from grid.output import BUILDINGS_HEADER, FEEDER_HEADER
from grid.result import BUILDING_STATE, FEEDER_STATE, BuildingResult, FeederSnapshot
from grid.timeseries import DayResult
from pv_simulator.results import Sums, interval_body, run_complete_body
from pv_simulator.run_records import END_FIELDS

NOW = datetime(2026, 6, 21, 12, tzinfo=UTC)


def _kind(annotation: Any) -> str:
    """A field's type as a comparable word: ``int``, ``float | None``, ``datetime``, ``list[str]``, ``dict``."""
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _kind(arguments[0])
    if origin in (typing.Union, types.UnionType):
        given = [argument for argument in arguments if argument is not type(None)]
        return f"{_kind(given[0])} | None" if len(given) == 1 else " | ".join(map(_kind, given))
    if origin is list:
        return f"list[{_kind(arguments[0])}]"
    if origin is dict or annotation is dict:
        return "dict"
    if annotation is pydantic.AwareDatetime or annotation is datetime:
        return "datetime"
    if isinstance(annotation, StrawberryOptional):
        return f"{_kind(annotation.of_type)} | None"
    if isinstance(annotation, StrawberryList):
        return f"list[{_kind(annotation.of_type)}]"
    return str(getattr(annotation, "__name__", annotation))


def wire_fields(model: type[pydantic.BaseModel]) -> dict[str, str]:
    """A wire model's fields but the schema version (a wire-only field), by name."""
    return {name: _kind(field.annotation) for name, field in model.model_fields.items() if name != "schema_version"}


def api_fields(model: type[pydantic.BaseModel]) -> dict[str, str]:
    return {name: _kind(field.annotation) for name, field in model.model_fields.items()}


def orm_fields(table: type[DeclarativeBase]) -> dict[str, str]:
    """A table's columns and the types their ``Mapped[...]`` annotations give."""
    hints = typing.get_type_hints(table)
    kinds = {name: _kind(typing.get_args(hints[name])[0]) for name in inspect(table).columns.keys()}  # noqa: SIM118
    for column in inspect(table).columns:
        assert kinds[column.key].endswith("| None") == bool(column.nullable), f"{table.__name__}.{column.key}"
    return kinds


def graphql_fields(strawberry_type: type) -> dict[str, str]:
    definition = strawberry_type.__strawberry_definition__  # type: ignore[attr-defined]
    return {field.python_name: _kind(field.type) for field in definition.fields}


def dataclass_fields(cls: type) -> dict[str, str]:
    hints = typing.get_type_hints(cls)
    return {field.name: _kind(hints[field.name]) for field in dataclasses.fields(cls)}


def body_fields(body: bytes) -> list[str]:
    return list(orjson.loads(body))


def test_the_meters_reading_body_carries_exactly_the_readings_fields() -> None:
    body = reading_body("meter-1", 7, "2026-06-21T12:00:07Z", 1234.5)
    assert body_fields(body) == [field.alias or name for name, field in Reading.model_fields.items()]
    assert parse_reading(body).power_w == 1234.5


def test_a_run_complete_notice_is_an_end_of_run_and_the_pv_run_records_keep_every_field_of_one() -> None:
    assert issubclass(RunComplete, EndOfRun) and wire_fields(RunComplete) == wire_fields(EndOfRun)
    kept = {name.replace("_ms", "_timestamp") for name in END_FIELDS} | {"meters"}  # instants in epoch ms
    assert kept == set(wire_fields(EndOfRun))


def test_the_interval_result_has_the_same_fields_on_the_wire_in_rest_graphql_and_in_the_database() -> None:
    wire = wire_fields(IntervalResult)
    assert api_fields(IntervalOut) == wire
    assert graphql_fields(graphql.Interval) == wire
    assert orm_fields(models.Interval) == {**wire, "updated_at": "datetime"}
    optional = {name for name, field in IntervalResult.model_fields.items() if not field.is_required()}
    assert optional == {name for name, field in IntervalOut.model_fields.items() if not field.is_required()}


BATTERY_FIELDS = {"battery_power_kw", "battery_soc_kwh"}
"""Sent only by a PV simulator with a battery."""


def test_the_pv_simulators_interval_body_sends_every_field_and_the_battery_only_with_one() -> None:
    start = int(NOW.timestamp())
    wire = [field.alias or name for name, field in IntervalResult.model_fields.items()]
    with_battery = interval_body("m", start, 60, Sums(1, 1, 0, 2, battery_dw=1, battery_soc_dwh=1))
    assert body_fields(with_battery) == wire
    without = interval_body("m", start, 60, Sums(1, 1, 0, 1))
    assert body_fields(without) == [name for name in wire if name not in BATTERY_FIELDS]


def test_the_live_feeds_row_and_the_importers_rows_fill_every_column_of_an_interval() -> None:
    columns = set(orm_fields(models.Interval))
    start = int(NOW.timestamp())
    for sums in (Sums(1, 1, 0, 1), Sums(1, 1, 0, 2, battery_dw=1, battery_soc_dwh=1)):
        row = interval_row(parse_interval_result(interval_body("m", start, 60, sums)), NOW)
        assert set(row) == columns
        assert IntervalOut.model_validate(row).model_dump() == {name: row[name] for name in IntervalOut.model_fields}
    for battery in (False, True):
        frame = pd.DataFrame({"utc": pd.to_datetime([start], unit="s", utc=True), "meter_power_kw": [1.0],
                              "pv_power_kw": [0.0], "net_power_kw": [1.0]})
        if battery:
            frame["battery_power_kw"], frame["battery_soc_kwh"] = [0.0], [1.0]
        (row,) = interval_rows("m", interval_sums(frame, 60), 60, NOW)
        assert set(row) == columns, battery


def test_the_run_has_the_same_fields_on_the_wire_in_rest_and_in_the_database() -> None:
    wire = wire_fields(RunComplete)
    assert api_fields(RunOut) == wire
    assert orm_fields(models.RunRecord) == {**wire, "completed_at": "datetime"}
    start = NOW.timestamp()
    body = run_complete_body("run-1", ["meter-1", "meter-2"], "meter-2", 1440, 60, start, start + 1439 * 60)
    assert body_fields(body) == [field.alias or name for name, field in RunComplete.model_fields.items()]
    row = run_row(parse_run_complete(body), NOW)
    assert set(row) == set(orm_fields(models.RunRecord))
    assert RunOut.model_validate(row).model_dump() == {name: row[name] for name in RunOut.model_fields}


def test_the_grid_result_has_the_same_fields_in_the_model_rest_graphql_the_database_and_the_files() -> None:
    floats = dict.fromkeys(FEEDER_STATE, "float")
    assert dataclass_fields(FeederSnapshot) == {"feeder": "str", "buildings": "dict", **floats}
    assert dataclass_fields(BuildingResult) == dict.fromkeys(BUILDING_STATE, "float")
    assert set(FEEDER_STATE) | set(BUILDING_STATE) <= {f.name for f in dataclasses.fields(DayResult)}
    assert (FEEDER_HEADER, BUILDINGS_HEADER) == (  # the grid files' bytes stay as they were
        "timestamp,grid_p_kw,grid_q_kvar,vm_min_pu,vm_max_pu,trafo_loading_percent,line_loading_max_percent,losses_kw\n",
        "timestamp,meter_id,vm_pu,p_kw,q_kvar\n")

    rest = api_fields(GridResultOut)
    assert rest == {"feeder": "str", "interval_start": "datetime", "interval_s": "int", "meters": "int", **floats,
                    "buildings": "dict"}
    assert api_fields(BuildingState) == dict.fromkeys(BUILDING_STATE, "float")
    assert orm_fields(models.GridResult) == {**rest, "inputs_updated_at": "datetime"}
    assert graphql_fields(graphql.GridResult) == {**rest, "buildings": "list[Building]"}
    assert graphql_fields(graphql.Building) == {**api_fields(BuildingState), "meter_id": "str"}

    state = {"buildings": {"meter-1": dict.fromkeys(BUILDING_STATE, 1.0)}, **dict.fromkeys(FEEDER_STATE, 0.5)}
    row = grid_row("seed", NOW, 60, 1, state, NOW)
    assert set(row) == set(orm_fields(models.GridResult))
    assert set(GridResultOut.model_validate(row).model_dump()) == set(rest)
