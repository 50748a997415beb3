"""Load models: turn local clock time into a building's consumption [W].

One module per model (:mod:`~models.load.random_walk`, :mod:`~models.load.uniform`,
:mod:`~models.load.gaussian`, :mod:`~models.load.bdew`), what they share in
:mod:`~models.load.base`, and :mod:`~models.load.registry` to choose one by name.
"""
