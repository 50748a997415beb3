"""The building's model chain (models/chain.py): load -> PV -> devices -> net, vectorised and one reading at a time."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from common.clock import LocalDay
from models.chain import BuildingPower, ModelChain
from models.pv.reference import ReferencePv, reference_pv_kw

BERLIN = ZoneInfo("Europe/Berlin")
SPRING = LocalDay(date(2026, 3, 29), BERLIN)  # 23 hours: clocks go forward at 02:00
AUTUMN = LocalDay(date(2026, 10, 25), BERLIN)  # 25 hours: 02:00-03:00 twice


def _readings(day: LocalDay, interval_s: int = 7) -> tuple[np.ndarray, np.ndarray]:
    stamps = day.timestamps_s(interval_s)
    return stamps, np.random.default_rng(1).uniform(0, 9000, stamps.shape[0]).round(1)


@pytest.mark.parametrize("day", [SPRING, AUTUMN])
def test_run_is_meter_minus_the_pv_of_the_local_wall_clock_second(day: LocalDay) -> None:
    stamps, power_w = _readings(day)
    found = ModelChain(ReferencePv()).run(day, stamps, power_w)
    # Independently: the local clock time from zoneinfo, the curve in kW, then 0.1 W.
    wall = np.array([(d.hour * 3600 + d.minute * 60 + d.second) for d in
                     (np.datetime64(int(t), "s").astype(object).replace(tzinfo=ZoneInfo("UTC")).astimezone(BERLIN)
                      for t in stamps)])
    pv_dw = np.rint(reference_pv_kw(wall) * 10_000).astype(np.int64)
    meter_dw = np.array([round(p * 10) for p in power_w])
    np.testing.assert_array_equal(found.pv_dw, pv_dw)
    np.testing.assert_array_equal(found.meter_dw, meter_dw)
    np.testing.assert_array_equal(found.net_dw, meter_dw - pv_dw)
    assert not found.device_dw.any()
    np.testing.assert_allclose(found.net_power_kw, found.meter_power_kw - found.pv_power_kw, atol=1e-12)


def test_one_reading_at_a_time_gives_what_run_gives() -> None:
    chain = ModelChain(ReferencePv(5.0))
    stamps, power_w = _readings(AUTUMN, 13)
    whole = chain.run(AUTUMN, stamps, power_w)
    one_by_one = np.array([chain.reading(AUTUMN, int(t), float(p)) for t, p in zip(stamps, power_w, strict=True)])
    np.testing.assert_array_equal(one_by_one[:, 0], whole.meter_dw)
    np.testing.assert_array_equal(one_by_one[:, 1], whole.pv_dw)


class HalfSurplus:
    """A test device: draws half of each reading's PV surplus (a battery charging, roughly)."""

    def __init__(self) -> None:
        self.seen: list[np.ndarray] = []

    def power_dw(self, day: LocalDay, timestamps_s: np.ndarray, meter_dw: np.ndarray, pv_dw: np.ndarray) -> np.ndarray:
        self.seen.append(timestamps_s)
        return np.maximum(pv_dw - meter_dw, 0) // 2


def test_devices_add_their_power_to_the_net_after_pv() -> None:
    device = HalfSurplus()
    chain = ModelChain(ReferencePv(8.0), devices=[device, device])
    stamps, power_w = _readings(SPRING, 60)
    found = chain.run(SPRING, stamps, power_w)
    surplus_half = np.maximum(found.pv_dw - found.meter_dw, 0) // 2
    assert surplus_half.any()
    np.testing.assert_array_equal(found.device_dw, 2 * surplus_half)
    np.testing.assert_array_equal(found.net_dw, found.meter_dw - found.pv_dw + 2 * surplus_half)
    assert all(np.array_equal(seen, stamps) for seen in device.seen)
    with pytest.raises(ValueError, match="in order"):
        chain.reading(SPRING, int(stamps[0]), 100.0)


def test_a_days_pv_is_computed_once_and_only_recent_dates_are_kept() -> None:
    calls: list[date] = []

    def counted(day: LocalDay) -> tuple[int, ...]:
        calls.append(day.day)
        return (7,) * 86_400

    chain = ModelChain(counted)
    for _ in range(3):
        chain.run(SPRING, *_readings(SPRING, 600))
        chain.reading(SPRING, SPRING.start_s, 1.0)
    assert calls == [SPRING.day]
    for k in range(20):
        chain.pv_day_dw(LocalDay(date(2026, 1, 1 + k), BERLIN))
    chain.run(SPRING, *_readings(SPRING, 600))
    assert calls.count(SPRING.day) == 2  # dropped after 8 newer dates: computed again


def test_building_power_is_in_kw_for_a_notebook() -> None:
    power = BuildingPower(*(np.array([12_345]),) * 2, np.array([2_345]), np.array([0]), np.array([10_000]))
    assert power.meter_power_kw.tolist() == [1.2345] and power.net_power_kw.tolist() == [1.0]
