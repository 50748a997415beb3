"""Load models by name (models/load/registry.py): one entry adds a model to the meter."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import numpy as np
import pytest

from meter.settings import MeterSettings
from models.load import registry
from models.load.base import LoadModel, finish_w
from models.load.registry import load_chunks, load_model, load_w


def _flat_w(wall_seconds, interval_s, rng, day, params):  # type: ignore[no-untyped-def]
    return finish_w(np.full(wall_seconds.shape[0], 1234.56))


def test_an_unknown_name_is_a_value_error_naming_the_choices() -> None:
    with pytest.raises(ValueError, match=r"unknown load model 'sine' \(choose from random-walk, uniform"):
        load_model("sine")


def test_one_registry_entry_makes_a_model_selectable_in_the_meter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.LOAD_MODELS, "flat", LoadModel(power_w=_flat_w))
    power = MeterSettings(date=date(2026, 6, 21), model="flat", interval_s=60).plan().day(0).power_w[0]
    assert power.shape == (1440,) and (power == 1234.6).all()


def test_chunks_of_a_model_without_its_own_chunking_are_its_values_in_turn() -> None:
    wall = np.arange(0, 86_400, 60)
    whole = load_w("gaussian", wall, 60, np.random.default_rng(4))
    chunks = list(load_chunks("gaussian", wall, 60, np.random.default_rng(4), None, registry.DEFAULT_PARAMS, 100))
    assert len(chunks) == 15 and np.array_equal(np.concatenate(chunks), whole)


def test_the_meter_loads_neither_pandas_nor_demandlib_for_the_random_walk() -> None:
    code = ("import sys; from meter.settings import MeterSettings; "
            "MeterSettings(interval_s=60).plan().day(0); print(sorted({'pandas', 'demandlib'} & set(sys.modules)))")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"
