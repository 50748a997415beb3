"""The one check every pipeline and fault test makes: a day's CSV holds exactly what the meter published."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from models.plan import RunPlan
from models.pv.reference import reference_day_dw
from store.format import HEADER


def plan_for(day: date, meters: int = 1, days: int = 1, seed: int = 0, model: str = "random-walk",
             timezone: str = "Europe/Berlin", interval_s: int = 1) -> RunPlan:
    """The run a ``python -m meter`` with these settings publishes."""
    return RunPlan(tuple(f"meter-{n}" for n in range(1, meters + 1)), day, days, ZoneInfo(timezone),
                   interval_s, seed, model)


def read_day(path: Path) -> pd.DataFrame:
    """A day CSV as written by the PV simulator (timestamps parsed to UTC)."""
    assert path.read_text().startswith(HEADER), f"{path} lacks the header"
    frame = pd.read_csv(path, dtype={"meter_id": str})
    frame["utc"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
    return frame


def assert_day_exact(output_dir: Path, plan: RunPlan, meter: int = 0, day_index: int = 0) -> int:
    """Assert that the CSV of (meter, day) holds every expected second once with the published values.

    Returns the number of rows checked. Compares against the readings the meter's
    seeded models produce, the reference PV curve, and net = meter - PV, and checks
    that the rows are in timestamp order (the PV simulator sorts a completed run's files).
    """
    readings = plan.day(day_index)
    meter_id = plan.meter_ids[meter]
    path = output_dir / meter_id / f"{readings.day.day.isoformat()}.csv"
    frame = read_day(path)
    epoch = ((frame["utc"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy()
    duplicates = len(epoch) - len(np.unique(epoch))
    assert duplicates == 0, f"{path}: {duplicates} duplicated seconds"
    expected = readings.timestamps_s
    missing = np.setdiff1d(expected, epoch)
    extra = np.setdiff1d(epoch, expected)
    assert len(missing) == 0 and len(extra) == 0, f"{path}: {len(missing)} missing, {len(extra)} unexpected rows"
    order = np.argsort(epoch)
    meter_kw = frame["meter_power_kw"].to_numpy()[order]
    pv_kw = frame["pv_power_kw"].to_numpy()[order]
    net_kw = frame["net_power_kw"].to_numpy()[order]
    np.testing.assert_allclose(meter_kw, readings.power_w[meter] / 1000, atol=5e-5)
    wall = readings.day.wall_seconds(expected)
    np.testing.assert_allclose(pv_kw, np.asarray(reference_day_dw())[wall] / 10_000, atol=5e-5)
    np.testing.assert_allclose(net_kw, meter_kw - pv_kw, atol=1e-9)
    assert (frame["meter_id"] == meter_id).all()
    assert frame["utc"].is_monotonic_increasing, f"{path}: rows not in timestamp order after the run completed"
    return len(frame)


def assert_battery_balance_closes(frame: pd.DataFrame, interval_s: float, efficiency: float,
                                  initial_soc_kwh: float) -> tuple[float, float]:
    """Assert, from a day file's (or consecutive days') own columns with a battery, that net = meter - PV + battery
    in every row, consumed + charged + exported = imported + PV + discharged, and the change of the state of
    charge = η·charged - discharged/η (within the columns' rounding); returns (charged, discharged) [kWh]."""
    net_dw = np.rint(frame.net_power_kw * 10_000)
    assert np.array_equal(net_dw, np.rint((frame.meter_power_kw - frame.pv_power_kw + frame.battery_power_kw)
                                          * 10_000))
    to_kwh = interval_s / 3600
    imported = frame.net_power_kw.clip(lower=0).sum() * to_kwh
    exported = -frame.net_power_kw.clip(upper=0).sum() * to_kwh
    charged = frame.battery_power_kw.clip(lower=0).sum() * to_kwh
    discharged = -frame.battery_power_kw.clip(upper=0).sum() * to_kwh
    consumed, pv = frame.meter_power_kw.sum() * to_kwh, frame.pv_power_kw.sum() * to_kwh
    assert abs(consumed + charged + exported - (imported + pv + discharged)) <= 1e-9
    soc_change = frame.battery_soc_kwh.iloc[-1] - initial_soc_kwh
    assert abs(soc_change - (efficiency * charged - discharged / efficiency)) <= 1e-4 * len(frame)
    return charged, discharged
