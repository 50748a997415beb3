"""``python -m grid hosting-capacity``: the files, their agreement with each other, replay, and exit 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grid.__main__ import main
from grid.hosting.scenarios import PvSizes, capacity_kwp, draw_scenarios
from grid.hosting.solve import Limits, find_violations, prepare


def run(out: Path, *args: str) -> int:
    return main(["hosting-capacity", "--output-dir", str(out), "--log-level", "WARNING", *args])


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hosting")
    assert run(out, "--feeder", "1-LV-rural1", "--scenarios", "60", "--seed", "4", "--vm-max-pu", "1.04",
               "--pv-median-kwp", "9") == 0
    return out / "grid" / "1-LV-rural1" / "hosting-capacity"


def test_the_files_agree_with_each_other(study: Path) -> None:
    summary = json.loads((study / "summary.json").read_text())
    rows = pd.read_csv(study / "scenarios.csv")
    assert len(rows) == 60 and summary["scenarios"] == 60 and summary["seed"] == 4
    assert summary["settings"]["vm_max_pu"] == 1.04 and summary["settings"]["pv_median_kwp"] == 9
    assert summary["capacity_kwp"]["p50"] == pytest.approx(np.percentile(rows.capacity_kwp, 50), abs=1e-3)
    assert summary["capacity_kwp"]["max"] == pytest.approx(rows.capacity_kwp.max(), abs=1e-3)
    assert summary["capacity_share_of_trafo"]["p5"] == pytest.approx(summary["capacity_kwp"]["p5"] / 160, rel=1e-6)
    assert summary["capacity_per_building_kwp"]["p95"] == pytest.approx(summary["capacity_kwp"]["p95"] / 13)
    shares = summary["binding_share"]
    assert sum(shares.values()) == pytest.approx(1.0)
    assert shares["voltage"] == pytest.approx(np.mean(rows.binding == "voltage"))
    assert shares["voltage"] > 0.5  # 1.04 pu is tight on this feeder
    voltage = rows[rows.binding == "voltage"]
    assert (voltage.value > 1.04).all() and voltage.element.str.startswith("LV1.101 Bus").all()
    assert (study / "hosting-capacity.png").read_bytes()[:4] == b"\x89PNG"


def test_replay_rebuilds_every_scenario(study: Path) -> None:
    replay = pd.read_csv(study / "replay.csv")
    rows = pd.read_csv(study / "scenarios.csv")
    hosting = prepare("1-LV-rural1")
    scenarios = draw_scenarios(60, 13, seed=4, sizes=PvSizes(median_kwp=9))
    names = np.array(hosting.building_names)
    for scenario in (0, 17, 59):
        steps = replay[replay.scenario == scenario].sort_values("step")
        assert steps.building.tolist() == names[scenarios.order[scenario]].tolist()
        assert steps.pv_kwp.to_numpy() == pytest.approx(scenarios.size_in_order_kwp()[scenario], abs=1e-3)
        with_pv = int(rows.buildings_with_pv[scenario])
        assert steps.pv_kwp.to_numpy()[:with_pv].sum() == pytest.approx(rows.capacity_kwp[scenario], abs=0.01)
    found = find_violations(hosting, scenarios, Limits(vm_max_pu=1.04))
    assert capacity_kwp(scenarios, found.first_step) == pytest.approx(rows.capacity_kwp.to_numpy(), abs=1e-3)


@pytest.mark.parametrize(("args", "message"), [
    (["--feeder", "1-LV-nowhere"], "unknown feeder '1-LV-nowhere'"),
    (["--scenarios", "0"], "--scenarios / PVSIM_SCENARIOS"),
    (["--feeder", "seed", "--vm-max-pu", "1.0"], "below the voltage of feeder 'seed' without PV"),
    (["--pv-min-kwp", "12"], "--pv-min-kwp <= --pv-median-kwp"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                          message: str) -> None:
    try:
        code = run(tmp_path, *args)
    except SystemExit as stop:  # settings errors stop in parse_settings
        code = int(stop.code or 0)
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "grid").exists()
