"""
A year of clear-sky PV, month by month
======================================

The ``clearsky`` PV model (:func:`models.pv.clearsky.clearsky_pv_kw`: pvlib's Ineichen clear
sky, PVWatts DC and inverter) for the default 5 kWp south-facing system in Berlin, evaluated every
15 minutes of 2026, against a household's BDEW ``H25`` load profile of 4,000 kWh/a
(:func:`models.load.bdew.bdew_profile_w`, one day in seven). Clear sky is an upper bound: real
weather brings the summer months down by a third or more.
"""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from models.load.base import LoadParams, meter_rng
from models.load.registry import load_w
from models.pv.clearsky import clearsky_pv_kw
from models.pv.site import PvSite

site = PvSite()
step_s = 900
instants = pd.date_range("2026-01-01", "2027-01-01", freq=f"{step_s}s", tz=site.timezone, inclusive="left")
pv_kw = clearsky_pv_kw(instants.asi8 // 10**9, site)
pv_kwh = pd.Series(pv_kw * step_s / 3600, index=instants).resample("MS").sum()

load_kwh = {}
for month in range(1, 13):
    days = [date(2026, month, 1) + timedelta(days=k) for k in range(0, 28, 7)]
    wall = np.arange(0, 86_400, step_s)
    daily = [load_w("profile", wall, step_s, meter_rng(0, 1, d.toordinal()), day=d,
                    params=LoadParams(annual_kwh=4000)).sum() * step_s / 3600 / 1000 for d in days]
    month_days = (date(2026 + month // 12, month % 12 + 1, 1) - date(2026, month, 1)).days
    load_kwh[month] = float(np.mean(daily)) * month_days

print(f"clear-sky PV {pv_kwh.sum():.0f} kWh/a, {pv_kwh.sum() / 5:.0f} kWh/kWp; load {sum(load_kwh.values()):.0f} kWh/a")

fig, ax = plt.subplots(figsize=(8, 3.5))
months = np.arange(1, 13)
ax.bar(months - 0.2, pv_kwh.to_numpy(), width=0.4, label="clear-sky PV, 5 kWp", color="tab:orange")
ax.bar(months + 0.2, list(load_kwh.values()), width=0.4, label="household H25, 4,000 kWh/a", color="tab:blue")
ax.set(xticks=months, xticklabels=[date(2026, m, 1).strftime("%b") for m in months], ylabel="energy [kWh]",
       title=f"Berlin, 2026 ({ZoneInfo(site.timezone)})")
ax.legend()
fig.tight_layout()
plt.show()
