"""The PV simulator's day files: each reading becomes a row of its meter's day file.

The model chain (:mod:`models.chain`) computes the row of a reading, meter and PV power [0.1 W];
the store (:class:`store.daystore.DayStore`, :class:`store.dayfile.DayFile`) holds the rows, their index,
locking and durability. A reading already held is not computed again.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from common.schema import DEFAULT_RESULTS_INTERVAL_S as DEFAULT_INTERVAL_S
from models.chain import ModelChain
from models.pv.profile import PvProfile
from pv_simulator.battery_state import BatteryStates
from store.dayfile import DayFile
from store.daystore import DayStore


class CsvStore(DayStore):
    """All day files under ``output_dir``, written from readings (see :class:`~store.daystore.DayStore`).

    ``building``: the :class:`~models.chain.ModelChain` that gives each row's PV power, or just its PV
    model. ``battery``: every meter's battery (None: no battery), whose columns are dispatched when the
    rows are written, in time order.
    """

    battery: BatteryStates | None

    def __init__(self, output_dir: Path, tz: ZoneInfo, building: ModelChain | PvProfile,
                 results_interval_s: int = DEFAULT_INTERVAL_S, battery: BatteryStates | None = None) -> None:
        super().__init__(output_dir, tz, results_interval_s, battery)
        if battery is not None:
            battery.bind(self.path_of, self.existing)
        self.chain = building if isinstance(building, ModelChain) else ModelChain(building)

    def add(self, meter_id: str, ms: int, power_w: float) -> DayFile | None:
        """Queue a reading [epoch ms, W]; returns its file, or None if it is already held."""
        day_file = self.day_file(meter_id, ms / 1000)
        if not day_file.claim(ms):
            return None
        meter_dw, pv_dw = self.chain.reading(day_file.day, ms // 1000, power_w)
        day_file.queue(ms, meter_dw, pv_dw)
        self.queued(day_file)
        return day_file
