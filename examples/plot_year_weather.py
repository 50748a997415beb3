"""
A year of weather-driven PV, month by month
===========================================

The ``weather`` PV model (:func:`models.pv.weather.hourly_year_kw`: the DWD test reference year
TRY2010 of the site's climate region, shipped in demandlib, through pvlib's Perez transposition,
SAPM cell temperature, PVWatts DC and inverter) for the default 5 kWp south-facing system in Berlin
(region 4, Potsdam), beside the ``clearsky`` model (:func:`models.pv.clearsky.clearsky_pv_kw`,
evaluated every 15 minutes) and a household's BDEW ``H25`` load profile of 4,000 kWh/a
(:func:`models.load.bdew.bdew_profile_w`, one day in seven). Clear sky is an upper bound: the
real weather of a typical year takes about a third off the year, and more than half of each winter month.
Datenbasis: Deutscher Wetterdienst.
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
from models.pv.try_data import load_try, region_at
from models.pv.weather import hourly_year_kw

site = PvSite()
step_s = 900
instants = pd.date_range("2026-01-01", "2027-01-01", freq=f"{step_s}s", tz=site.timezone, inclusive="left")
pv_kw = clearsky_pv_kw(instants.asi8 // 10**9, site)
pv_kwh = pd.Series(pv_kw * step_s / 3600, index=instants).resample("MS").sum()

region = region_at(site.latitude, site.longitude)
midpoints_s, weather_kw = hourly_year_kw(load_try(region), 2026, site)  # hourly means [kW], 2025-12-31..2027-01-01
hours = pd.Series(weather_kw, index=pd.to_datetime(midpoints_s, unit="s", utc=True).tz_convert(site.timezone))
weather_kwh = hours[(hours.index.year == 2026)].resample("MS").sum()  # an hour's mean kW is its kWh

load_kwh = {}
for month in range(1, 13):
    days = [date(2026, month, 1) + timedelta(days=k) for k in range(0, 28, 7)]
    wall = np.arange(0, 86_400, step_s)
    daily = [load_w("profile", wall, step_s, meter_rng(0, 1, d.toordinal()), day=d,
                    params=LoadParams(annual_kwh=4000)).sum() * step_s / 3600 / 1000 for d in days]
    month_days = (date(2026 + month // 12, month % 12 + 1, 1) - date(2026, month, 1)).days
    load_kwh[month] = float(np.mean(daily)) * month_days

yield_kwh_per_kwp = weather_kwh.sum() / site.dc_capacity_kw
print(f"TRY region {region}: weather PV {weather_kwh.sum():.0f} kWh/a ({yield_kwh_per_kwp:.0f} kWh/kWp), "
      f"clear-sky PV {pv_kwh.sum():.0f} kWh/a; load {sum(load_kwh.values()):.0f} kWh/a")

fig, ax = plt.subplots(figsize=(8, 3.5))
months = np.arange(1, 13)
ax.bar(months - 0.27, pv_kwh.to_numpy(), width=0.27, label="clear-sky PV, 5 kWp", color="tab:orange", alpha=0.45)
ax.bar(months, weather_kwh.to_numpy(), width=0.27, label=f"TRY weather PV (region {region})", color="tab:orange")
ax.bar(months + 0.27, list(load_kwh.values()), width=0.27, label="household H25, 4,000 kWh/a", color="tab:blue")
ax.set(xticks=months, xticklabels=[date(2026, m, 1).strftime("%b") for m in months], ylabel="energy [kWh]",
       title=f"Berlin, 2026 ({ZoneInfo(site.timezone)})")
ax.set_ylim(0, 1.3 * max(pv_kwh.max(), max(load_kwh.values())))
ax.legend(ncol=3, loc="upper center", fontsize="small")
fig.tight_layout()
plt.show()
