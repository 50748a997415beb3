"""
How much PV a feeder takes
==========================

A crude hosting-capacity sweep on SimBench's ``1-LV-rural1`` feeder (13 loads): every building
gets the same daily load shape and the same reference PV curve scaled to a peak of 0 to 60 kW,
and :func:`grid.timeseries.solve_day` (power-grid-model, one batch per day) gives the highest
voltage and the most loaded cable of the day. EN 50160 allows 1.1 pu; cable loading over 100 %
is an overload. The PV size where either limit is crossed is the feeder's hosting capacity
under these (simplified) assumptions.
"""

import matplotlib.pyplot as plt
import numpy as np

from grid.feeders import build_feeder
from grid.timeseries import solve_day
from models.load.random_walk import diurnal_mean_w
from models.pv.reference import reference_pv_kw

feeder = "1-LV-rural1"
buildings = len(build_feeder(feeder).load)
meter_ids = [f"meter-{n}" for n in range(1, buildings + 1)]
wall_s = np.arange(0, 86_400, 900)  # quarter hours
meter_kw = np.repeat((diurnal_mean_w(wall_s) / 1000)[:, None], buildings, axis=1)  # (T, B)

peaks_kw = np.arange(0, 61, 5.0)
vm_max, line_max = [], []
for peak in peaks_kw:
    roof_kw = reference_pv_kw(wall_s, peak_kw=peak) if peak > 0 else np.zeros(wall_s.shape)
    pv_kw = np.repeat(roof_kw[:, None], buildings, axis=1)
    day = solve_day(feeder, meter_ids, meter_kw, pv_kw, threads=1)
    vm_max.append(day.vm_max_pu.max())
    line_max.append(day.line_loading_max_percent.max())
    print(f"PV peak {peak:4.1f} kW per roof: max voltage {vm_max[-1]:.3f} pu, busiest cable {line_max[-1]:.0f} %")

within = [p for p, v, line in zip(peaks_kw, vm_max, line_max, strict=True) if v <= 1.1 and line <= 100]
print(f"hosting capacity on this grid of sizes: {within[-1]:.0f} kW per roof, {within[-1] * buildings:.0f} kW in all")

fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(7, 5))
top.plot(peaks_kw, vm_max, "o-")
top.axhline(1.1, color="tab:red", ls="--", label="EN 50160 limit")
top.set(ylabel="highest voltage [pu]", title=f"{feeder}: {buildings} roofs with PV")
top.legend()
bottom.plot(peaks_kw, line_max, "o-", color="tab:purple")
bottom.axhline(100, color="tab:red", ls="--")
bottom.set(xlabel="PV peak per roof [kW]", ylabel="busiest cable [%]")
fig.tight_layout()
plt.show()
