"""Report's year view: monthly energy, the carpet of net power by time of day, specific yield."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from models.plan import RunPlan
from models.pv.reference import reference_day_dw
from pv_simulator.report import main
from pv_simulator.summary import summarize_csv
from pv_simulator.year_view import BINS_PER_DAY, MeterYear, net_by_time_of_day
from store.reader import read_day_csv

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def meter_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """31 March - 2 April and the day clocks go forward, one meter at 60 s, written by the real writer."""
    from pv_simulator.writer import CsvStore

    output = tmp_path_factory.mktemp("output")
    store = CsvStore(output, BERLIN, lambda day: reference_day_dw())
    for first, days in ((date(2026, 3, 29), 1), (date(2026, 3, 31), 3)):
        plan = RunPlan(("m1",), first, days, BERLIN, 60, 7, "random-walk")
        for index in range(days):
            readings = plan.day(index)
            for instant, power in zip(readings.timestamps_s.tolist(), readings.power_list[0], strict=True):
                store.add("m1", instant * 1000, power)
    store.write()
    return output / "m1"


def test_the_carpet_row_of_a_day_is_its_net_power_by_local_clock(meter_folder: Path) -> None:
    frame = read_day_csv(meter_folder / "2026-04-01.csv")
    row = net_by_time_of_day(frame)
    assert row.shape == (BINS_PER_DAY,) and np.isfinite(row).all()
    net = (frame["meter_power_kw"] - frame["pv_power_kw"]).to_numpy()
    # 12:00-12:10 local: the readings 720..729 of the day (60 s apart, from local midnight)
    assert row[72] == pytest.approx(net[720:730].mean())
    spring = net_by_time_of_day(read_day_csv(meter_folder / "2026-03-29.csv"))
    assert np.isnan(spring[12:18]).all() and np.isfinite(spring[:12]).all()  # 02:00-03:00 never happened


def test_monthly_energy_is_the_sum_of_its_days(meter_folder: Path) -> None:
    summaries = [summarize_csv(path) for path in sorted(meter_folder.glob("*.csv"))]
    monthly = MeterYear("m1", summaries, np.zeros((len(summaries), BINS_PER_DAY))).monthly_kwh()
    assert list(monthly.index) == ["2026-03", "2026-04"]
    march = [s for s in summaries if str(s.day).startswith("2026-03")]
    assert monthly.loc["2026-03", "PV"] == pytest.approx(sum(s.pv_kwh for s in march))
    assert monthly.loc["2026-04", "import"] == pytest.approx(sum(s.imported_kwh for s in summaries[2:]))


def test_report_writes_the_year_view_and_the_specific_yield(meter_folder: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(meter_folder), "--year-view", "--dc-capacity-kw", "5"]) == 0
    header, first, *_ = capsys.readouterr().out.splitlines()
    assert header.rstrip().endswith("yield [kWh/kWp]")
    pv_kwh = summarize_csv(meter_folder / "2026-03-29.csv").pv_kwh
    assert float(first.split()[-1]) == pytest.approx(pv_kwh / 5, abs=1e-3)
    png = meter_folder / "year.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    assert main([str(meter_folder), "--dc-capacity-kw", "0"]) == 2
