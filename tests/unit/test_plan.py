"""Unit tests of the meter run plan (models/plan.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from models.plan import DayStream, RunPlan

BERLIN = ZoneInfo("Europe/Berlin")


def plan(meters: int = 1, days: int = 1, first_day: date = date(2026, 6, 21), interval_s: int = 1,
         seed: int = 0, model: str = "random-walk", tz: ZoneInfo = BERLIN) -> RunPlan:
    return RunPlan(tuple(f"meter-{n}" for n in range(1, meters + 1)), first_day, days, tz, interval_s, seed, model)


def test_one_meter_one_day_publishes_86400_readings():
    p = plan()
    assert p.readings_per_day == (86_400,)
    assert p.readings_per_meter == 86_400
    assert p.total == 86_400
    assert p.day_starts == (0,)


def test_three_meters_multiply_the_total():
    p = plan(meters=3)
    assert p.readings_per_meter == 86_400
    assert p.total == 3 * 86_400


def test_two_days_double_the_readings_per_meter():
    p = plan(days=2)
    assert p.readings_per_day == (86_400, 86_400)
    assert p.day_starts == (0, 86_400)
    assert p.total == 172_800


def test_dst_days_have_23_and_25_hours_of_readings():
    spring = plan(first_day=date(2026, 3, 28), days=3, meters=2)
    assert spring.readings_per_day == (86_400, 82_800, 86_400)
    assert spring.total == 2 * (86_400 + 82_800 + 86_400)
    fall = plan(first_day=date(2026, 10, 25), days=2)
    assert fall.readings_per_day == (90_000, 86_400)
    assert fall.day_starts == (0, 90_000)


def test_interval_divides_readings_rounding_up():
    assert plan(interval_s=60).readings_per_day == (1440,)
    assert plan(interval_s=7).readings_per_day == (12_343,)
    assert plan(interval_s=60, first_day=date(2026, 10, 25)).readings_per_day == (1500,)


def test_local_days_are_consecutive():
    p = plan(days=3, first_day=date(2026, 12, 31))
    assert [d.day for d in p.local_days] == [date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 2)]
    assert p.local_days[0].end_s == p.local_days[1].start_s


def test_locate_follows_publishing_order_day_then_second_then_meter():
    p = plan(meters=3, days=2, first_day=date(2026, 10, 25))
    expected_order = [
        (day, second, meter)
        for day, n in enumerate(p.readings_per_day)
        for second in (0, 1, 2, n - 2, n - 1)
        for meter in range(3)
    ]
    for day, second, meter in expected_order:
        g = (p.day_starts[day] + second) * 3 + meter
        assert p.locate(g) == (day, second, meter)
    assert p.locate(0) == (0, 0, 0)
    assert p.locate(p.total - 1) == (1, 86_399, 2)
    assert p.locate(90_000 * 3) == (1, 0, 0)
    assert p.locate(90_000 * 3 - 1) == (0, 89_999, 2)


def test_locate_round_trips_every_index_of_a_small_plan():
    p = plan(meters=4, days=3, interval_s=3600, first_day=date(2026, 3, 28))
    seen = [p.locate(g) for g in range(p.total)]
    rebuilt = [(p.day_starts[d] + s) * 4 + m for d, s, m in seen]
    assert rebuilt == list(range(p.total))
    assert seen == sorted(seen)
    assert len(set(seen)) == p.total


def test_day_generation_is_deterministic():
    p1 = plan(meters=2, days=2, seed=5)
    p2 = plan(meters=2, days=2, seed=5)
    a, b = p1.day(1), p2.day(1)
    np.testing.assert_array_equal(a.power_w, b.power_w)
    np.testing.assert_array_equal(a.timestamps_s, b.timestamps_s)
    np.testing.assert_array_equal(p1.day(0).power_w, p1.day(0).power_w)


def test_a_day_does_not_depend_on_the_first_day_of_the_run():
    # any day can be regenerated on its own: same (seed, meter, date) -> same readings
    from_start = plan(days=2, first_day=date(2026, 6, 21), seed=3).day(1)
    alone = plan(days=1, first_day=date(2026, 6, 22), seed=3).day(0)
    np.testing.assert_array_equal(from_start.power_w, alone.power_w)


def test_meters_and_seeds_give_different_readings():
    d = plan(meters=2, seed=1).day(0)
    assert d.power_w.shape == (2, 86_400)
    assert not np.array_equal(d.power_w[0], d.power_w[1])
    assert not np.array_equal(plan(seed=2).day(0).power_w[0], d.power_w[0])


def test_seq0_of_day_two_is_the_readings_of_day_one():
    p = plan(days=3, first_day=date(2026, 10, 25), interval_s=60)
    assert p.day(0).seq0 == 0
    assert p.day(1).seq0 == 1500
    assert p.day(2).seq0 == 1500 + 1440


def test_day_timestamps_start_at_local_midnight_at_the_interval():
    d = plan(interval_s=60).day(0)
    assert d.timestamps_s[0] == int(datetime(2026, 6, 20, 22, 0, tzinfo=UTC).timestamp())
    assert np.all(np.diff(d.timestamps_s) == 60)
    assert d.power_w.shape == (1, 1440)


def test_timestamps_utc_end_with_z_and_match_the_epoch_seconds():
    d = plan(interval_s=3607, first_day=date(2026, 10, 25)).day(0)
    strings = d.timestamps_utc
    assert len(strings) == len(d.timestamps_s)
    assert strings[0] == "2026-10-24T22:00:00Z"
    for text, seconds in zip(strings, d.timestamps_s.tolist(), strict=True):
        assert text.endswith("Z")
        assert datetime.fromisoformat(text).timestamp() == seconds


def test_power_list_matches_power_array():
    d = plan(meters=2, interval_s=600).day(0)
    assert d.power_list == d.power_w.tolist()
    assert isinstance(d.power_list[1][3], float)


@pytest.mark.parametrize("model", ["random-walk", "uniform"])
def test_plan_readings_are_within_the_wire_bounds(model):
    d = plan(meters=2, model=model, interval_s=10).day(0)
    assert d.power_w.min() >= 0.0
    assert d.power_w.max() <= 9000.0


def test_plan_with_unknown_model_fails_when_a_day_is_generated():
    with pytest.raises(ValueError):
        plan(model="sine").day(0)


def test_plan_span_matches_the_local_days():
    p = plan(days=2, first_day=date(2026, 3, 29))
    last = p.day(1)
    assert last.timestamps_s[-1] == p.local_days[1].end_s - 1
    assert datetime.fromtimestamp(int(last.timestamps_s[-1]), BERLIN) + timedelta(seconds=1) == datetime(
        2026, 3, 31, 0, 0, tzinfo=BERLIN
    )


@pytest.mark.parametrize("model", ["random-walk", "uniform", "gaussian", "profile"])
@pytest.mark.parametrize("interval_s", [1, 60])
def test_a_day_stream_gives_the_whole_days_values_bit_for_bit(model, interval_s, monkeypatch):
    monkeypatch.setattr("models.plan.CHUNK_VALUES", 3 * 1000)  # 1,000 readings per meter per chunk
    p = plan(meters=3, interval_s=interval_s, model=model)
    whole = p.day(0)
    stream = DayStream(p, 0)
    assert stream.chunk_len == 1000
    n = whole.timestamps_s.shape[0]
    for i in range(n):
        k = stream.seek(i)
        for m in range(3):
            assert stream.power_list[m][k] == whole.power_list[m][i]
        assert stream.timestamps_utc[k] == whole.timestamps_utc[i]


def test_a_day_stream_holds_one_chunk_of_every_meter_not_a_day():
    # A whole day of 1,000 meters at 1 s as Python floats was about 4 GB.
    p = plan(meters=1000, interval_s=60)
    stream = DayStream(p, 0)
    stream.seek(0)
    assert stream.chunk_len == 262  # 262,144 readings in all
    assert sum(len(values) for values in stream.power_list) == 262_000
    assert stream.seek(1439) == 1439 - 5 * 262
    with pytest.raises(ValueError, match="earlier chunk"):
        stream.seek(0)
