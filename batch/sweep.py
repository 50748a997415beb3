"""``python -m batch sweep``: self-sufficiency over a grid of PV sizes, battery capacities and consumptions.

For each annual consumption the chain runs once over the period (the ``profile`` load model and the PV
model of the settings, per kWp), then every PV size (a linear scaling of the per-kWp power: the DC/AC
ratio stays the settings') and battery capacity is dispatched over the same readings, the state carried
across days. One row per combination goes to ``<output-dir>/sweeps/<name>/results.csv``, and a figure like
HTW Berlin's independence calculator (self-sufficiency against battery capacity per MWh of consumption,
one line per PV size) beside it as ``self_sufficiency.png``. Seeded: the same settings give the same bytes.
"""

from __future__ import annotations

import csv
import logging
import multiprocessing
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from batch.cluster import ClusterError
from batch.settings import DaskSettings
from common.cli import parse_settings
from common.settings import OutputSettings
from models.battery import Dispatch, dispatch
from models.battery_parameters import BatteryParameters
from models.battery_summary import BatteryBalance, battery_balance
from models.plan import RunPlan
from models.pv.parameters import PvModelParameters
from models.pv.profile import PvProfile
from models.run_parameters import RunParameters
from store.layout import sweep_dir

log = logging.getLogger("batch.sweep")

FloatList = Annotated[tuple[float, ...], NoDecode]
COLUMNS = ("annual_kwh", "pv_kwp", "battery_kwh", "battery_kw", "consumed_kwh", "pv_kwh", "imported_kwh",
           "exported_kwh", "curtailed_kwh", "charged_kwh", "discharged_kwh", "losses_kwh", "equivalent_full_cycles",
           "self_consumption_percent", "self_sufficiency_percent")
"""Columns of ``results.csv``; energies [kWh] with 3 decimals, shares [%] and cycles with 2."""
DESCRIPTION = (
    "Sizing sweep: run the profile load model and the PV model over a period (default a year at 60 s) for each "
    "annual consumption, dispatch a battery for every PV size and capacity, and write "
    "<output-dir>/sweeps/<name>/results.csv (one row per combination) and self_sufficiency.png, locally or on a "
    "Dask cluster (--scheduler-address; one task per annual consumption)."
)


class SweepSettings(RunParameters, OutputSettings, PvModelParameters, BatteryParameters, DaskSettings):
    """Everything a sweep needs; see ``python -m batch sweep --help``."""

    days: int = Field(365, ge=1, le=3660, description="number of consecutive days of the period")
    interval_s: int = Field(60, ge=1, le=3600, description="emulated time between readings [s]")
    model: Literal["profile"] = Field("profile", description="load model (a sweep scales the profile model)")
    pv_model: str = Field("clearsky", description="PV model (see python -m batch --help); its per-kWp power is "
                                                  "scaled to each --sweep-pv-kwp")
    sweep_name: str = Field("default", pattern=r"^[A-Za-z0-9._-]{1,64}$",
                            description="name of the sweep: its files go to <output-dir>/sweeps/<name>/")
    sweep_pv_kwp: FloatList = Field((2.25, 4.5, 5.0, 9.0), description="PV sizes, comma-separated [kWp]")
    sweep_battery_kwh: FloatList = Field((0.0, 2.25, 4.5, 5.0, 9.0),
                                         description="battery capacities, comma-separated [kWh]; 0 = PV alone")
    sweep_annual_kwh: FloatList = Field((4500.0,), description="annual consumptions, comma-separated [kWh/a]")
    workers: int = Field(1, ge=1, le=64, description="local worker processes (one consumption each)")

    @field_validator("sweep_pv_kwp", "sweep_battery_kwh", "sweep_annual_kwh", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(float(part) for part in value.split(",") if part.strip())
        return value

    @field_validator("sweep_pv_kwp", "sweep_annual_kwh")
    @classmethod
    def _positive(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or min(value) <= 0:
            raise ValueError("give one or more values, each > 0")
        return value

    @field_validator("sweep_battery_kwh")
    @classmethod
    def _not_negative(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or min(value) < 0:
            raise ValueError("give one or more values, each >= 0")
        return value


@dataclass(frozen=True)
class Period:
    """One consumption's readings over the sweep's period: arrays of shape (n,)."""

    meter_kw: npt.NDArray[np.float64]
    """Consumption [kW]."""
    pv_per_kwp_kw: npt.NDArray[np.float64]
    """PV AC power per kWp [kW/kWp]."""
    local_hour: npt.NDArray[np.float64]
    """Local wall-clock hour of each reading [h]."""


def period_of(settings: SweepSettings, annual_kwh: float) -> Period:
    """Run the load and PV models over the sweep's period for one annual consumption."""
    plan = settings.model_copy(update={"annual_kwh": annual_kwh, "meters": 1}).plan()
    return period_of_plan(plan, settings.pv_profile(), settings.pv_kwp())


def period_of_plan(plan: RunPlan, pv_profile: PvProfile, pv_kwp: float) -> Period:
    """The first meter of ``plan`` and the PV model ``pv_profile`` of ``pv_kwp`` [kWp], over the plan's days."""
    meter, pv, hour = [], [], []
    for index in range(plan.days):
        readings = plan.day(index, 0)
        wall = readings.day.wall_seconds(readings.timestamps_s)
        meter.append(readings.power_w[0] / 1000)
        pv.append(np.asarray(pv_profile(readings.day), dtype=np.float64)[wall] / 10_000 / pv_kwp)
        hour.append(wall / 3600)
    return Period(np.concatenate(meter), np.concatenate(pv), np.concatenate(hour))


def _row(annual_kwh: float, pv_kwp: float, battery_kwh: float, battery_kw: float, b: BatteryBalance) -> dict:
    energies = {name: f"{getattr(b, name):.3f}" for name in COLUMNS[4:12]}
    return {"annual_kwh": f"{annual_kwh:g}", "pv_kwp": f"{pv_kwp:g}", "battery_kwh": f"{battery_kwh:g}",
            "battery_kw": f"{battery_kw:g}", **energies, "equivalent_full_cycles": f"{b.equivalent_full_cycles:.2f}",
            "self_consumption_percent": f"{b.self_consumption_percent or 0:.2f}",
            "self_sufficiency_percent": f"{b.self_sufficiency_percent or 0:.2f}"}


def sweep_consumption(settings: SweepSettings, annual_kwh: float) -> list[dict]:
    """The rows of one annual consumption: every PV size × battery capacity, in the settings' order."""
    period = period_of(settings, annual_kwh)
    rows = []
    for pv_kwp in settings.sweep_pv_kwp:
        pv_kw = period.pv_per_kwp_kw * pv_kwp
        for battery_kwh in settings.sweep_battery_kwh:
            spec = settings.battery_spec(pv_kwp, battery_kwh)
            if spec is None:  # PV alone: a battery that never moves
                zeros = np.zeros_like(pv_kw)
                result, capacity, soc0, limit = Dispatch(zeros, zeros, zeros, 0.0), 1.0, 0.0, 0.0
            else:
                soc0, capacity, limit = settings.initial_soc_kwh(battery_kwh), battery_kwh, spec.limit_kw
                result = dispatch(period.meter_kw, pv_kw, settings.interval_s, spec, soc0, period.local_hour)
            balance = battery_balance(period.meter_kw, pv_kw, settings.interval_s, result, capacity, soc0)
            rows.append(_row(annual_kwh, pv_kwp, battery_kwh, limit, balance))
    return rows


def _sweep_one(args: tuple[SweepSettings, float]) -> list[dict]:
    return sweep_consumption(*args)


def _on_dask(tasks: list[tuple[SweepSettings, float]], address: str) -> list[list[dict]]:
    """Each consumption's rows computed as one task on the Dask cluster at ``address``, in the tasks' order."""
    from distributed import Client  # only for cluster runs

    from batch.cluster import CONNECT_TIMEOUT_S

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError) as error:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {error}") from error
    run_id = uuid.uuid4().hex[:12]
    with client:
        futures = client.map(_sweep_one, tasks, key=[f"pvsim-sweep-{annual:g}-{run_id}" for _, annual in tasks])
        try:
            return list(client.gather(futures))
        except Exception as error:  # a worker without pvsim's code, a killed worker, ...
            raise ClusterError(f"sweep task failed on the cluster: {type(error).__name__}: {error}") from error


def run_sweep(settings: SweepSettings) -> Path:
    """Compute every row (locally or on the Dask cluster of ``--scheduler-address``), write ``results.csv`` and
    the figure; returns the sweep's folder. Raises :class:`~batch.cluster.ClusterError` if the cluster fails."""
    folder = sweep_dir(settings.output_dir, settings.sweep_name)
    folder.mkdir(parents=True, exist_ok=True)
    tasks = [(settings, annual_kwh) for annual_kwh in settings.sweep_annual_kwh]
    if settings.scheduler_address is not None:
        groups = _on_dask(tasks, settings.scheduler_address)
    elif settings.workers == 1 or len(tasks) == 1:
        groups = [_sweep_one(task) for task in tasks]
    else:
        with multiprocessing.get_context("fork").Pool(min(settings.workers, len(tasks))) as pool:
            groups = pool.map(_sweep_one, tasks)
    rows = [row for group in groups for row in group]
    with (folder / "results.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    from batch.sweep_figure import plot_sweep  # matplotlib only here

    plot_sweep(rows, folder / "self_sufficiency.png",
               f"{settings.days} days at {settings.interval_s} s, {settings.pv_model} PV, {settings.profile} load, "
               f"battery {settings.battery_strategy} at η {settings.battery_efficiency:g}")
    return folder


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m batch sweep``; returns the exit code (2: bad settings, 1: output failure)."""
    settings = parse_settings(SweepSettings, argv, "batch sweep", DESCRIPTION)
    settings.configure_logging()
    started = time.monotonic()
    try:
        folder = run_sweep(settings)
    except OSError as error:
        log.error("cannot write the sweep: %s", error)
        return 1
    except ClusterError as error:
        log.error("%s", error)
        return 1
    log.info("sweep of %d point(s) in %.1f s -> %s", len(settings.sweep_pv_kwp) * len(settings.sweep_battery_kwh)
             * len(settings.sweep_annual_kwh), time.monotonic() - started, folder)
    from batch.sweep_figure import anchor_report

    with (folder / "results.csv").open() as handle:
        print(anchor_report(list(csv.DictReader(handle))), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
