"""The day files' index of held seconds and instants (store/instants.py), and the day files using it, against a set."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pv_simulator.writer import CsvStore
from store.format import HEADER
from store.instants import HeldInstants, HeldSeconds

START = 1_782_000_000  # 2026-06-21T00:00:00Z
DAY_END = START + 86_400
SPAN_END = START + 2_000  # a short span: random seconds meet the progression and each other
UTC = ZoneInfo("UTC")


@st.composite
def arrivals(draw: st.DrawFn, start: int = START, end: int = SPAN_END) -> list[int]:
    """Seconds in arrival order: an in-step run (first, step, count) with strays and repeats put in anywhere."""
    first = draw(st.integers(start, end - 1))
    step = draw(st.integers(1, 300))
    run = list(range(first, end, step))[:draw(st.integers(0, 40))]
    seconds = list(run)
    strays = st.integers(start, end - 1)
    for position, second in draw(st.lists(st.tuples(st.integers(0, len(seconds)),
                                                    st.sampled_from(run) | strays if run else strays),
                                          max_size=8)):
        seconds.insert(position, second)
    return seconds


grids = st.tuples(st.integers(START - 500, SPAN_END + 500), st.integers(START - 500, SPAN_END + 500),
                  st.integers(1, 400))


def on_grid(model: set[int], first_s: int, last_s: int, step_s: int) -> int:
    return sum(1 for s in model if first_s <= s <= last_s and (s - first_s) % step_s == 0)


@settings(max_examples=400, deadline=None)
@given(arrivals(), st.lists(st.integers(START - 10, SPAN_END + 10), max_size=20), st.lists(grids, max_size=6))
def test_held_seconds_answers_like_a_set(seconds: list[int], probes: list[int],
                                         queries: list[tuple[int, int, int]]) -> None:
    held, model = HeldSeconds(START, SPAN_END), set()
    for second in seconds:
        assert held.add(second) is (second not in model)
        model.add(second)
        assert second in held
    assert len(held) == len(model)
    assert held.seconds().tolist() == sorted(model)
    for probe in probes + seconds:
        assert (probe in held) is (probe in model)
        assert held.latest_before(probe) == max((s for s in model if s < probe), default=None)
    for first_s, last_s, step_s in queries:
        assert held.count_on_grid(first_s, last_s, step_s) == on_grid(model, first_s, last_s, step_s)


@settings(max_examples=200, deadline=None)
@given(st.integers(START, SPAN_END - 1), st.integers(1, 300), st.integers(0, 60), st.data())
def test_seconds_in_step_and_their_repeats_stay_compact(first: int, step: int, count: int,
                                                        data: st.DataObject) -> None:
    run = list(range(first, SPAN_END, step))[:count]
    held = HeldSeconds(START, SPAN_END)
    for second in run:
        assert held.add(second)
    for second in data.draw(st.lists(st.sampled_from(run), max_size=20)) if run else []:
        assert not held.add(second)  # redeliveries and duplicates
    assert not held.expanded
    assert held.seconds().tolist() == run


@pytest.mark.parametrize(("run", "stray"), [
    ([10, 20, 30], 35),  # off the step
    ([10, 20, 30], 50),  # a gap
    ([10, 20, 30], 5),  # out of order, before the first
    ([10, 20], 15),
    ([10], 5),
])
def test_a_second_off_the_progression_expands_to_the_bitmap_and_keeps_the_rest(run: list[int], stray: int) -> None:
    held = HeldSeconds(START, SPAN_END)
    for second in run:
        held.add(START + second)
    assert held.add(START + stray)
    assert held.expanded
    assert held.seconds().tolist() == sorted(START + s for s in [*run, stray])
    assert not held.add(START + run[0])
    assert held.add(START + run[-1] + 1)


def test_seconds_outside_the_span_are_refused_and_not_held() -> None:
    held = HeldSeconds(START, SPAN_END)
    with pytest.raises(ValueError, match="outside"):
        held.add(SPAN_END)
    with pytest.raises(ValueError, match="empty span"):
        HeldSeconds(START, START)
    assert START - 1 not in held and SPAN_END not in held and "x" not in held


@settings(max_examples=200, deadline=None)
@given(arrivals(), st.lists(st.integers(0, 2_000_000 - 1), max_size=8), st.lists(grids, max_size=6))
def test_held_instants_answer_like_a_set_of_epoch_ms(seconds: list[int], offsets_ms: list[int],
                                                      queries: list[tuple[int, int, int]]) -> None:
    held, model = HeldInstants(START, SPAN_END), set()
    for ms in [s * 1000 for s in seconds] + [START * 1000 + offset for offset in offsets_ms]:
        assert held.add(ms) == (ms not in model)
        model.add(ms)
    assert sorted(held) == sorted(model) and all(ms in held for ms in model)
    assert START * 1000 - 1 not in held and "x" not in held
    for first_s, last_s, step_s in queries:
        for first_ms, step_ms in ((first_s * 1000, step_s * 1000), (first_s * 1000 + 500, step_s * 1000)):
            last_ms = last_s * 1000
            expected = sum(1 for ms in model if first_ms <= ms <= last_ms and (ms - first_ms) % step_ms == 0)
            assert held.count_on_grid_ms(first_ms, last_ms, step_ms) == expected


# -- the day files using it --------------------------------------------------------------------------

def store(output_dir: Path) -> CsvStore:
    return CsvStore(output_dir, UTC, lambda _day: (1000,) * 86_400)


def instants(seconds: list[int], subsecond: list[int]) -> list[int]:
    """Epoch ms: the whole seconds, with sub-second instants (ms offsets into the span) put in after them."""
    return [s * 1000 for s in seconds] + [START * 1000 + offset for offset in subsecond]


day_arrivals = arrivals(START, DAY_END)
subseconds = st.lists(st.integers(0, 86_400_000 - 1).filter(lambda ms: ms % 1000 != 0), max_size=4)


def check_index(s: CsvStore, model: set[int], queries: list[tuple[int, int, int]]) -> None:
    day_file = s.day_file("meter-1", START)
    assert sorted(day_file._instants()) == sorted(model)
    whole = {ms // 1000 for ms in model if ms % 1000 == 0}
    for first_s, last_s, step_s in [*queries, (START, DAY_END - 1, 1), (START - 7, DAY_END + 7, 60)]:
        assert day_file.count_aligned(first_s, last_s, step_s) == on_grid(whole, first_s, last_s, step_s)
        assert day_file.count_aligned_ms(first_s * 1000, last_s * 1000, step_s * 1000) == \
            on_grid(whole, first_s, last_s, step_s)
    for probe in [START, (START + DAY_END) // 2, DAY_END, *whole]:
        assert day_file.held_before(probe) == max((w for w in whole if w < probe), default=None)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(day_arrivals, subseconds, day_arrivals, st.lists(grids, max_size=4))
def test_a_day_file_holds_each_instant_once_through_writes_and_a_reload(
        first: list[int], subsecond: list[int], later: list[int], queries: list[tuple[int, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder)
        s, model = store(output), set()
        for ms in instants(first, subsecond):
            assert (s.add("meter-1", ms, 100.0) is not None) is (ms not in model)
            model.add(ms)
        check_index(s, model, queries)
        s.write()
        reloaded = store(output)  # a new process: the index comes from the file
        for ms in instants(later, []):
            assert (reloaded.add("meter-1", ms, 100.0) is not None) is (ms not in model)
            model.add(ms)
        check_index(reloaded, model, queries)
        reloaded.write()
        path = output / "meter-1" / "2026-06-21.csv"
        rows_on_disk = len(path.read_text().splitlines()) - 1 if path.exists() else 0
        assert rows_on_disk == len(model) == reloaded.day_file("meter-1", START).rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(day_arrivals, day_arrivals, day_arrivals, subseconds)
def test_a_file_replaced_by_another_writer_is_reindexed_and_its_new_rows_are_foreign(
        mine: list[int], theirs: list[int], queued: list[int], subsecond: list[int]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder)
        path = output / "meter-1" / "2026-06-21.csv"
        me, other = store(output), store(output)
        for ms in instants(mine, subsecond):
            me.add("meter-1", ms, 100.0)
        me.write()
        known = set(me.day_file("meter-1", START)._instants())
        for ms in instants(theirs, []):
            other.add("meter-1", ms, 100.0)  # loads my rows first: adds only new ones
        other.write()
        on_disk = known | {s * 1000 for s in theirs}
        assume(on_disk)  # a file to replace
        lines = path.read_text().splitlines(keepends=True)[1:]
        temporary = path.with_name("replaced.tmp")  # the other writer sorts: a new file in the old one's place
        temporary.write_text(HEADER + "".join(sorted(lines)))
        os.replace(temporary, path)
        mine_queued: set[int] = set()  # my index does not know their rows yet: they look new
        for ms in instants(queued, []):
            assert (me.add("meter-1", ms, 100.0) is not None) is (ms not in known | mine_queued)
            mine_queued.add(ms)
        mine_queued -= known
        me.write()  # with rows to append, notices the new inode: reads the whole file again
        if not mine_queued:  # nothing to append: the file was not looked at
            assert me.take_foreign() == []
            assert sorted(me.day_file("meter-1", START)._instants()) == sorted(known)
            return
        # Foreign: on disk now, in neither my old index nor my queue (a queued row counted already).
        assert sorted(ms for _meter, ms in me.take_foreign()) == sorted(on_disk - known - mine_queued)
        assert sorted(me.day_file("meter-1", START)._instants()) == sorted(on_disk | mine_queued)
        assert len(path.read_text().splitlines()) - 1 == len(on_disk | mine_queued)
