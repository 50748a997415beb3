"""
A day through the model chain
=============================

One building's day at one-minute resolution, from Python and without a broker: the
``random-walk`` load model (:func:`models.load.registry.load_w`), the challenge's reference PV curve
(:func:`models.pv.reference.reference_pv_kw`), net = meter - PV, and the day's energy balance
(:func:`models.balance.summarize`), the same functions the services and batch mode run.
"""

from datetime import date
from zoneinfo import ZoneInfo

import matplotlib.pyplot as plt
import numpy as np

from common.clock import LocalDay
from models.balance import summarize
from models.load.base import meter_rng
from models.load.registry import load_w
from models.pv.reference import reference_pv_kw

day = LocalDay(date(2026, 6, 21), ZoneInfo("Europe/Berlin"))
interval_s = 60
wall_s = np.arange(0, day.length_s, interval_s)  # local wall-clock seconds since midnight
meter_kw = load_w("random-walk", wall_s, interval_s, meter_rng(seed=0, meter_number=1,
                                                                ordinal_day=day.day.toordinal())) / 1000
pv_kw = reference_pv_kw(wall_s)
net_kw = meter_kw - pv_kw

stamps = np.array([f"2026-06-21T{s // 3600:02d}:{s // 60 % 60:02d}:00+02:00" for s in wall_s])
balance = summarize(stamps, meter_kw, pv_kw, interval_s, meter_id="meter-1")
print(f"consumed {balance.consumed_kwh:.1f} kWh, PV {balance.pv_kwh:.1f} kWh, "
      f"imported {balance.imported_kwh:.1f} kWh, exported {balance.exported_kwh:.1f} kWh, "
      f"self-consumption {balance.self_consumption_percent:.0f} %")

hours = wall_s / 3600
fig, ax = plt.subplots(figsize=(8, 3.5))
ax.plot(hours, meter_kw, label="meter", lw=0.8)
ax.plot(hours, pv_kw, label="PV", lw=1.5)
ax.fill_between(hours, net_kw, 0, where=net_kw > 0, color="tab:red", alpha=0.3, label="import")
ax.fill_between(hours, net_kw, 0, where=net_kw < 0, color="tab:green", alpha=0.3, label="export")
ax.set(xlabel="local time [h]", ylabel="power [kW]", xlim=(0, 24), title="2026-06-21, meter-1")
ax.legend(loc="upper left", ncols=4)
fig.tight_layout()
plt.show()
