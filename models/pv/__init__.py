"""PV models: turn a local day into PV AC power per wall-clock second.

:mod:`models.pv.profile` is the interface, :mod:`models.pv.registry` chooses a model by name
(``reference``: the challenge's curve, :mod:`models.pv.reference`; ``clearsky``: pvlib,
:mod:`models.pv.clearsky`), :mod:`models.pv.site` describes the system, :mod:`models.pv.parameters` holds
the choice of model and site that the commands' settings read.
"""
