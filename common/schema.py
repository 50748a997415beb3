"""Wire contract: the messages meters publish, defined once and validated at the edge.

Two message kinds travel on the ``pvsim`` exchange, both JSON objects
(``content_type`` ``application/json``, UTF-8):

* a **reading** (routing key ``meter.<meter_id>.reading``), :class:`Reading`;
* an **end of run** announcement (routing key ``meter.<meter_id>.end``), :class:`EndOfRun`.

The PV simulator publishes its results on the ``pvsim.results`` exchange:

* an **interval result** (routing key ``result.<meter_id>.interval``), :class:`IntervalResult`;
* a **run complete** notice (routing key ``result.<meter_id>.run``), :class:`RunComplete`.

Unknown extra fields are ignored so that producers can add fields within a schema
version; a change that breaks readers bumps ``schema``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SCHEMA_VERSION = 1
MAX_BODY_BYTES = 64 * 1024
MAX_POWER_W = 9000.0
"""Upper bound of a meter reading [W], from the challenge brief (0 to 9000 W)."""

EARLIEST = datetime(1970, 1, 2, tzinfo=UTC)
LATEST = datetime(2261, 12, 31, tzinfo=UTC)
"""Readings must lie between these instants, the one definition of the accepted range.

Every local date around them, and the next local midnight after it, stays representable as a
``datetime`` and as a pandas ``Timestamp`` (nanoseconds since 1970: the last is 2262-04-11), which
the day files' closing, the report, the grid and the API compute with. The range once ended at
9999-12-30: a run there crashed the PV simulator on every restart while closing its last day
(``OverflowError`` at the next midnight of 9999-12-31), and pandas could not read its day file.
"""

MAX_METERS = 1000
"""Most meters in one run (the meter's ``--meters`` limit)."""
MAX_RUN_DAYS = 3660
"""Longest run in days (the meter's ``--days`` limit)."""
DEFAULT_RESULTS_INTERVAL_S = 60
"""Length of an :class:`IntervalResult`'s interval [emulated s] unless ``--results-interval-s`` chooses another
(it must divide a UTC day, 86,400 s): the PV simulator publishes them, ``python -m api import`` rebuilds them."""

MeterId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
"""A meter id is one routing-key word and a safe directory name: letters, digits, ``-``, ``_``."""


class InvalidMessage(ValueError):
    """A message body that does not satisfy the wire contract; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Message(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")

    schema_version: int = Field(alias="schema")

    @field_validator("schema_version")
    @classmethod
    def _check_schema(cls, value: int) -> int:
        if value != SCHEMA_VERSION:
            raise ValueError(f"unknown schema version {value} (this reader knows {SCHEMA_VERSION})")
        return value
    meter_id: MeterId


class Reading(_Message):
    """One meter reading.

    Fields: ``schema`` (1), ``meter_id``, ``seq`` (0-based index within the meter's
    run), ``timestamp`` (ISO 8601 with a UTC offset; producers send UTC with ``Z``),
    ``power_w`` (active power drawn by the building [W], 0 to 9000, finite).
    """

    seq: int = Field(ge=0)
    timestamp: AwareDatetime = Field(ge=EARLIEST, le=LATEST)
    power_w: float = Field(ge=0.0, le=MAX_POWER_W, allow_inf_nan=False)


def reading_body(meter_id: str, seq: int, timestamp: str, power_w: float) -> bytes:
    """JSON body of a :class:`Reading` (the meter's path, per reading: no validation; ``timestamp`` already
    formatted, UTC with ``Z``). ``tests/unit/test_shapes.py`` checks that it carries exactly the model's fields."""
    return orjson.dumps({"schema": SCHEMA_VERSION, "meter_id": meter_id, "seq": seq, "timestamp": timestamp,
                         "power_w": power_w})


class EndOfRun(_Message):
    """Announces that a meter published its whole run and every reading was confirmed.

    ``readings`` readings were published, with ``seq`` 0 to ``readings - 1`` and
    timestamps ``first_timestamp`` + k * ``interval_s``. ``run_id`` names the meter
    process run and ``meters`` lists every meter id of that run, so a consumer can
    tell when the whole run is done.
    """

    run_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,128}$")]
    meters: Annotated[list[MeterId], Field(min_length=1, max_length=MAX_METERS)]
    readings: int = Field(ge=1)
    interval_s: int = Field(ge=1, le=3600)
    first_timestamp: AwareDatetime = Field(ge=EARLIEST, le=LATEST)
    last_timestamp: AwareDatetime = Field(ge=EARLIEST, le=LATEST)

    @model_validator(mode="after")
    def _check_consistent(self) -> EndOfRun:
        if self.meter_id not in self.meters:
            raise ValueError(f"meter_id '{self.meter_id}' is not among the run's meters")
        span_s = (self.last_timestamp - self.first_timestamp).total_seconds()
        if span_s != (self.readings - 1) * self.interval_s:
            raise ValueError("last_timestamp - first_timestamp must be (readings - 1) * interval_s")
        if span_s > (MAX_RUN_DAYS + 1) * 86_400:  # days may be 25 h long
            raise ValueError(f"a run spans at most {MAX_RUN_DAYS} days")
        return self


class IntervalResult(_Message):
    """Means of one meter's rows over one interval, published by the PV simulator after the rows are fsynced.

    ``interval_start`` is the UTC start of the interval (a multiple of ``interval_s``
    since the Unix epoch), ``interval_s`` its length [s] (emulated), ``readings`` how
    many rows of that meter lie in it so far, and ``meter_power_kw``, ``pv_power_kw``,
    ``net_power_kw`` the means [kW] of those rows (net = meter - PV + battery, positive
    drawn from the grid). ``import_power_kw`` and ``export_power_kw`` are the means of the
    positive part of net and of the negative part (as a positive number), so
    ``net = import − export`` and the interval's imported energy is
    ``import_power_kw · interval_s / 3600`` [kWh] even when net changes sign inside it;
    pvsim's PV simulator always sends them, readers accept their absence (``None``).
    With a battery behind the meter, ``battery_power_kw`` is its mean power [kW] over the
    interval (positive while charging, a load) and ``battery_soc_kwh`` its state of charge
    at the interval's end [kWh] (after its latest row); without one, or from an older
    producer, both are absent (``None``).
    An interval is published when it closes and again whenever late rows change it:
    consumers upsert by (``meter_id``, ``interval_start``).
    """

    interval_start: AwareDatetime = Field(ge=EARLIEST, le=LATEST)
    interval_s: int = Field(ge=1, le=86_400)
    readings: int = Field(ge=1)
    meter_power_kw: float = Field(allow_inf_nan=False)
    pv_power_kw: float = Field(allow_inf_nan=False)
    net_power_kw: float = Field(allow_inf_nan=False)
    import_power_kw: float | None = Field(default=None, ge=0.0, allow_inf_nan=False)
    export_power_kw: float | None = Field(default=None, ge=0.0, allow_inf_nan=False)
    battery_power_kw: float | None = Field(default=None, allow_inf_nan=False)
    battery_soc_kwh: float | None = Field(default=None, ge=0.0, allow_inf_nan=False)


class RunComplete(EndOfRun):
    """A meter's run is complete on disk: every reading its end-of-run announced is written.

    Published by the PV simulator once per (``meter_id``, ``run_id``) after the last
    interval result of the run; its fields repeat the meter's :class:`EndOfRun` and
    obey the same rules.
    """


def _parse(model: type[_Message], body: bytes) -> _Message:
    if not body:
        raise InvalidMessage("empty body")
    if len(body) > MAX_BODY_BYTES:
        raise InvalidMessage(f"body of {len(body)} bytes exceeds the {MAX_BODY_BYTES}-byte limit")
    try:
        # strict JSON mode: numbers must be numbers, timestamps ISO 8601 strings. The model's own validator,
        # which ``model_validate_json`` calls after checking its arguments (per reading: 2.0 us instead of 2.5).
        return model.__pydantic_validator__.validate_json(body)  # type: ignore[no-any-return]
    except ValidationError as error:
        raise InvalidMessage(_describe(error)) from None


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False):
        loc = ".".join(str(p) for p in item["loc"]) or "body"
        parts.append(f"{loc}: {item['msg']}")
    return "; ".join(parts)


def parse_reading(body: bytes) -> Reading:
    """Validate a reading body.

    Raises
    ------
    InvalidMessage
        With a one-line ``reason`` for any body that breaks the contract.
    """
    return _parse(Reading, body)  # type: ignore[return-value]


def parse_end_of_run(body: bytes) -> EndOfRun:
    """Validate an end-of-run body. Raises :class:`InvalidMessage`."""
    return _parse(EndOfRun, body)  # type: ignore[return-value]


def parse_interval_result(body: bytes) -> IntervalResult:
    """Validate an interval-result body. Raises :class:`InvalidMessage`."""
    return _parse(IntervalResult, body)  # type: ignore[return-value]


def parse_run_complete(body: bytes) -> RunComplete:
    """Validate a run-complete body. Raises :class:`InvalidMessage`."""
    return _parse(RunComplete, body)  # type: ignore[return-value]


def format_utc(epoch_s: float) -> str:
    """Epoch seconds -> ``2026-06-21T12:00:00Z`` (milliseconds shown only when non-zero)."""
    moment = datetime.fromtimestamp(epoch_s, UTC)
    text = moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def message_fields(message: _Message) -> dict[str, Any]:
    """The fields of ``message`` by name, without the schema version (a wire-only field), timestamps in UTC:
    the columns the web service stores a message's shape in."""
    data = message.model_dump(exclude={"schema_version"})
    return {key: value.astimezone(UTC) if isinstance(value, datetime) else value for key, value in data.items()}


def encode(message: _Message) -> bytes:
    """Serialise a message to its JSON body (UTC timestamps with ``Z``)."""
    data = message.model_dump(by_alias=True)
    for key, value in data.items():
        if isinstance(value, datetime):
            data[key] = format_utc(value.timestamp())
    return orjson.dumps(data)
