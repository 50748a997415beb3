"""Whole files from tasks that may run twice at once: temporary file, fsync, atomic rename."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from batch.files import remove_temporaries, replace_atomically, temporary_for


def test_a_file_is_replaced_whole_and_no_temporary_stays(tmp_path: Path) -> None:
    target = tmp_path / "meter-1" / "2026-06-21.csv"
    replace_atomically([(target, [b"old\n"])])
    replace_atomically([(target, [b"ne", b"w\n"]), (target.with_name("2026-06-21.summary.json"), [b"{}\n"])])
    assert target.read_bytes() == b"new\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["2026-06-21.csv", "2026-06-21.summary.json"]


def test_two_attempts_writing_at_once_leave_one_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "2026-06-21.csv"
    data = bytes(range(256)) * 4096  # 1 MiB, so a torn or mixed read would show
    replace_atomically([(target, [b"old"])])
    seen: set[bytes] = set()
    writing = True

    def attempt() -> None:
        for _ in range(20):
            replace_atomically([(target, [data])])

    def read() -> None:
        while writing:
            seen.add(target.read_bytes())

    reader = threading.Thread(target=read)
    reader.start()
    attempts = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in attempts:
        thread.start()
    for thread in attempts:
        thread.join()
    writing = False
    reader.join()
    assert target.read_bytes() == data
    assert seen <= {b"old", data}
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_a_failed_write_removes_its_temporary_and_keeps_the_old_file(tmp_path: Path) -> None:
    (tmp_path / "day.csv").mkdir()  # renaming a file over a directory fails
    with pytest.raises(OSError):
        replace_atomically([(tmp_path / "day.csv", [b"rows"])])
    assert [p.name for p in tmp_path.iterdir()] == ["day.csv"]


def test_temporaries_left_by_killed_attempts_are_removed_and_nothing_else(tmp_path: Path) -> None:
    folder = tmp_path / "meter-1"
    folder.mkdir()
    kept = [folder / "2026-06-21.csv", folder / "2026-06-21.summary.json", folder / ".hidden.tmp",
            folder / "2026-06-21.csv.tmp"]
    for path in kept:
        path.write_text("x")
    left = [temporary_for(kept[0]), temporary_for(kept[1])]
    for path in left:
        path.write_text("half a fi")
    assert remove_temporaries([folder, tmp_path / "meter-2"]) == 2
    assert sorted(folder.iterdir()) == sorted(kept)
