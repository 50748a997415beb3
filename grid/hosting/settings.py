"""Settings of ``python -m grid hosting-capacity`` (flags and ``PVSIM_*`` environment variables)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator

from common.settings import CommonSettings
from grid.hosting import scenarios as defaults
from grid.layout import FEEDER_NAMES, check_feeder_name
from store.layout import hosting_dir

DEFAULT_FEEDER = "1-LV-rural1"


class HostingSettings(CommonSettings):
    """Everything ``python -m grid hosting-capacity`` needs; see its ``--help``."""

    feeder: str = Field(DEFAULT_FEEDER, description=f"feeder: {', '.join(FEEDER_NAMES)}; its loads are the buildings")
    scenarios: int = Field(1000, ge=1, le=1_000_000, description="number of random PV deployments")
    seed: int = Field(0, ge=0, description="seed of the random building orders and PV sizes (same seed, same result)")
    output_dir: Path = Field(Path("output"), description="results go to <dir>/grid/<feeder>/hosting-capacity/")
    vm_max_pu: float = Field(defaults.VM_MAX_PU, gt=0, description="upper bus voltage limit (EN 50160) [pu]")
    voltage_rise_percent: float | None = Field(
        None, gt=0, description="also limit the voltage rise against the feeder without PV, e.g. 3 "
        "(VDE-AR-N 4105 for LV connections) [%]; default: not checked")
    loading_max_percent: float = Field(defaults.LOADING_MAX_PERCENT, gt=0,
                                       description="line and transformer loading limit [%]")
    pv_share: float = Field(defaults.PV_SHARE, gt=0, le=1.2, description="PV output at the operating point as a share "
                            "of its kWp (SimBench study case lPV: 0.95) [-]")
    load_share: float = Field(defaults.LOAD_SHARE, ge=0, le=1, description="each building's load at the operating "
                              "point as a share of its rated load in the feeder data (SimBench lPV: 0.1) [-]")
    power_factor: float = Field(0.95, gt=0, le=1, description="power factor of the buildings' loads (inductive)")
    pv_median_kwp: float = Field(defaults.PV_MEDIAN_KWP, gt=0, description="median of the log-normal PV size per "
                                 "building (German rooftop statistics, see docs/hosting-capacity.md) [kWp]")
    pv_sigma: float = Field(defaults.PV_SIGMA, ge=0, le=3, description="spread of ln(PV size) [-]")
    pv_min_kwp: float = Field(defaults.PV_MIN_KWP, gt=0, description="smallest PV size drawn [kWp]")
    pv_max_kwp: float = Field(defaults.PV_MAX_KWP, gt=0, description="largest PV size drawn [kWp]")
    chunk_rows: int = Field(20_000, ge=1, description="power flows per power-grid-model batch (bounds memory)")

    @field_validator("feeder")
    @classmethod
    def _check_feeder(cls, value: str) -> str:
        return check_feeder_name(value)

    @model_validator(mode="after")
    def _check_sizes(self) -> HostingSettings:
        if not self.pv_min_kwp <= self.pv_median_kwp <= self.pv_max_kwp:
            raise ValueError(f"need --pv-min-kwp <= --pv-median-kwp <= --pv-max-kwp, got {self.pv_min_kwp}, "
                             f"{self.pv_median_kwp}, {self.pv_max_kwp}")
        return self

    def directory(self) -> Path:
        """``<output_dir>/grid/<feeder>/hosting-capacity``."""
        return hosting_dir(self.output_dir, self.feeder)
