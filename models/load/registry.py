"""Load models by name: each entry is a :class:`~models.load.base.LoadModel` in its own module.

Built-in entries are ``"module:attribute"`` paths, imported when first chosen (the BDEW
profile model imports pandas and demandlib, which the meter does not otherwise need).
Adding a model is one module defining a ``LoadModel`` and one entry in :data:`LOAD_MODELS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import date

import numpy as np
import numpy.typing as npt

from models.load.base import DEFAULT_PARAMS, LoadModel, LoadParams

LOAD_MODELS: dict[str, str | LoadModel] = {
    "random-walk": "models.load.random_walk:MODEL",
    "uniform": "models.load.uniform:MODEL",
    "gaussian": "models.load.gaussian:MODEL",
    "profile": "models.load.bdew:MODEL",
}
"""Name -> load model, or the ``"module:attribute"`` path of one."""

MODELS = tuple(LOAD_MODELS)
"""The built-in load models' names."""


def load_model(name: str) -> LoadModel:
    """The registered load model ``name``. Raises ``ValueError`` for an unknown name."""
    try:
        entry = LOAD_MODELS[name]
    except KeyError:
        raise ValueError(f"unknown load model '{name}' (choose from {', '.join(LOAD_MODELS)})") from None
    if isinstance(entry, LoadModel):
        return entry
    module, _, attribute = entry.partition(":")
    found: LoadModel = getattr(importlib.import_module(module), attribute)
    return found


def load_w(
    model: str,
    wall_seconds: npt.ArrayLike,
    interval_s: float,
    rng: np.random.Generator,
    day: date | None = None,
    params: LoadParams = DEFAULT_PARAMS,
) -> npt.NDArray[np.float64]:
    """Power [W] of the named load model at each local wall-clock second.

    Parameters
    ----------
    model : str
        A name of :data:`LOAD_MODELS`.
    wall_seconds : scalar or array of int
        Local wall-clock time of each reading, seconds since local midnight [s].
    interval_s : float
        Time between readings [s] (the random walk's step).
    rng : numpy.random.Generator
        Random stream; the result is deterministic for a given state.
    day : date, optional
        The local date, needed by ``profile``.
    params : LoadParams
        Parameters of ``gaussian`` and ``profile``.

    Returns
    -------
    ndarray of float64, shape (n,)
        Power [W] within [0, 9000], rounded to 0.1 W.

    Raises
    ------
    ValueError
        For an unknown name or a ``profile`` without ``day``.
    """
    wall = np.atleast_1d(np.asarray(wall_seconds))
    return load_model(model).power_w(wall, interval_s, rng, day, params)


def load_chunks(
    model: str,
    wall_seconds: npt.NDArray[np.int64],
    interval_s: float,
    rng: np.random.Generator,
    day: date | None,
    params: LoadParams,
    chunk: int,
    shared: npt.NDArray[np.float64] | None = None,
) -> Iterator[npt.NDArray[np.float64]]:
    """:func:`load_w` over a day's ``wall_seconds``, ``chunk`` readings at a time, with the same values.

    Lets the meter hold one chunk of every meter instead of a whole day (about 4 GB
    as Python floats at 1,000 meters and 1 s). ``shared``: :func:`day_shared` of the
    day, computed once for all meters.
    """
    found = load_model(model)
    if found.power_chunks is not None:
        yield from found.power_chunks(wall_seconds, interval_s, rng, chunk, shared)
        return
    for begin in range(0, wall_seconds.shape[0], chunk):
        yield load_w(model, wall_seconds[begin : begin + chunk], interval_s, rng, day, params)


def day_shared(model: str, wall_seconds: npt.NDArray[np.int64]) -> npt.NDArray[np.float64] | None:
    """What every meter of a day shares for :func:`load_chunks` (the random walk's diurnal mean [W]), or None."""
    found = load_model(model)
    return found.day_shared(wall_seconds) if found.day_shared is not None else None
