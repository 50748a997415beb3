"""Power flow of pvsim's buildings on a low-voltage feeder (pure modelling, no broker).

Modules: :mod:`grid.feeders` (the networks), :mod:`grid.buildings` (the building model),
:mod:`grid.snapshot` (one instant with ``pandapower.runpp``), :mod:`grid.timeseries`
(a day with power-grid-model's batch calculation), :mod:`grid.summary`, :mod:`grid.run`
(day files in, grid files out) and ``python -m grid``.
"""

REQUIRED_MODULES = ("pandapower", "simbench", "power_grid_model")
"""What the power flow imports (installed by ``requirements-grid.txt``); checked before a command needs them."""
