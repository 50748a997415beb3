"""Stochastic PV hosting capacity of a feeder (``python -m grid hosting-capacity``).

:mod:`grid.hosting.scenarios` draws the deployments and defines the operating point (pure),
:mod:`grid.hosting.solve` checks every step of every deployment with power-grid-model's
batch solver, :mod:`grid.hosting.report` writes the result files and :mod:`grid.hosting.plot`
the figure; :mod:`grid.hosting.run` is the command.
"""
