"""The ``pvsim`` command: one entry point with a subcommand for every program (see :mod:`pvsim.cli`)."""
