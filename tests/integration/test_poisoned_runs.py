"""No stored run record stops the PV simulator: a poisoned one fails alone, marked so, and every other run goes on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from common import topology
from tests.conftest import start_service
from tests.expect import read_day
from tests.integration.test_bad_input import READINGS, end_of_run, publish, reading

pytestmark = [pytest.mark.integration]

EDGE_MS = 253_402_128_000_000  # 9999-12-30T00:00:00Z, the last instant of the wire contract before #21
POISON = {
    # A run at the old edge of the contract, recorded by an older version: closing it overflowed every restart.
    "old-edge": {"run_id": "old-edge", "meters": ["meter-9"], "complete": False, "abandoned": False, "ends": {
        "meter-9": {"run_id": "old-edge", "meter_id": "meter-9", "first_ms": EDGE_MS, "last_ms": EDGE_MS,
                    "interval_s": 1, "readings": 1, "remaining": 1}}},
    "a-list": [1, 2, 3],
    "no-ends": {"run_id": "no-ends", "meters": ["meter-9"], "complete": False},
    "wrong-types": {"run_id": "wrong-types", "meters": "meter-9", "ends": {"meter-9": 7}},
    "escapes": {"run_id": "../../escapes", "meters": ["meter-9"], "ends": {}},
}


def run_of(meter_id: str) -> list[tuple[str, bytes]]:
    """A normal run of one meter: ``READINGS`` readings and its end of run."""
    key = topology.reading_routing_key(meter_id)
    end = end_of_run(meter_id).replace(b'"test-run"', f'"{meter_id}-run"'.encode())
    readings = [(key, reading(seq, meter_id=meter_id)) for seq in range(READINGS)]
    return [*readings, (topology.end_routing_key(meter_id), end)]


def test_poisoned_run_records_fail_alone_and_a_restart_processes_normal_runs(amqp_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    runs = out / ".pvsim" / "runs"
    runs.mkdir(parents=True)
    for name, record in POISON.items():
        (runs / f"{name}.json").write_text(json.dumps(record))
    (runs / "not-json.json").write_bytes(b"{\xff not json")

    publish(amqp_url, run_of("meter-1"))
    log = tmp_path / "pv-1.log"
    pv = start_service("pv_simulator", amqp_url, "--exit-when-done", "--output-dir", str(out), log_path=log)
    assert pv.wait(timeout=60) == 0, log.read_text()[-4000:]
    text = log.read_text()
    assert len(read_day(out / "meter-1" / "2026-06-21.csv")) == READINGS
    assert json.loads((runs / "meter-1-run.json").read_text())["complete"] is True
    for name in [*POISON, "not-json"]:
        assert text.count(f"run '{name}': its record cannot be used") == 1, text[-4000:]
    edge = json.loads((runs / "old-edge.json").read_text())
    assert "wire contract" in edge["failed"]
    assert json.loads((runs / "no-ends.json").read_text())["failed"]
    assert (runs / "a-list.json.failed").read_text() == "[1, 2, 3]"
    assert (runs / "not-json.json.failed").read_bytes() == b"{\xff not json"
    assert not (tmp_path / "escapes.json").exists()

    # The restart: the failed records are not tried again, and the next run goes through.
    publish(amqp_url, run_of("meter-2"))
    log = tmp_path / "pv-2.log"
    pv = start_service("pv_simulator", amqp_url, "--exit-when-done", "--output-dir", str(out), log_path=log)
    assert pv.wait(timeout=60) == 0, log.read_text()[-4000:]
    text = log.read_text()
    assert "cannot be used" not in text and "Traceback" not in text
    assert len(read_day(out / "meter-2" / "2026-06-21.csv")) == READINGS
