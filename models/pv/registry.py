"""PV models by name, in the spirit of pvlib's ``ModelChain`` (``dc_model='pvwatts'`` or a callable).

A PV model is registered as a *factory*: called with the site and the model options, it returns a
:class:`~models.pv.profile.PvProfile`. Built-in entries are ``"module:attribute"`` paths, imported
only when chosen (the clear-sky model imports pvlib, which the reference curve does not need).

Adding a model is one module with a factory and one entry in :data:`PV_MODELS`::

    def weather_model(site: PvSite, weather: pd.DataFrame | None = None, **_options: object) -> PvProfile: ...

    PV_MODELS["weather"] = "models.pv.weather:weather_model"

A factory takes ``site`` and the keyword options it needs, and must accept (and ignore) the
others (``**_options``): every model is built with the same options.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from models.pv.profile import PvProfile
from models.pv.site import PvSite

PvModelFactory = Callable[..., PvProfile]
"""``factory(site, **options) -> PvProfile``."""

PV_MODELS: dict[str, str | PvModelFactory] = {
    "reference": "models.pv.reference:reference_model",
    "clearsky": "models.pv.clearsky:clearsky_model",
    "weather": "models.pv.weather:weather_model",
}
"""Name -> factory, or the ``"module:attribute"`` path of one (imported when first chosen)."""


def pv_model_names() -> tuple[str, ...]:
    """The names of the registered PV models, in registration order."""
    return tuple(PV_MODELS)


def pv_model_factory(model: str | PvModelFactory) -> PvModelFactory:
    """The factory of a PV model given by name (see :data:`PV_MODELS`) or as a callable (returned as is).

    Raises
    ------
    ValueError
        For a name that is not registered.
    """
    if callable(model):
        return model
    try:
        entry = PV_MODELS[model]
    except KeyError:
        raise ValueError(f"unknown PV model '{model}' (choose from {', '.join(PV_MODELS)})") from None
    if callable(entry):
        return entry
    module, _, attribute = entry.partition(":")
    factory: PvModelFactory = getattr(importlib.import_module(module), attribute)
    return factory


def build_pv_profile(model: str | PvModelFactory, site: PvSite, **options: Any) -> PvProfile:
    """The :class:`~models.pv.profile.PvProfile` of ``model`` for ``site``.

    Parameters
    ----------
    model : str or callable
        A name of :data:`PV_MODELS` or a factory ``(site, **options) -> PvProfile``.
    site : PvSite
        The system and where it stands.
    **options
        Model options; each model takes those it knows (``peak_kw`` [kW] of ``reference``).

    Raises
    ------
    ValueError
        For an unknown name or options a model rejects.
    """
    return pv_model_factory(model)(site, **options)
