"""Broker-free batch runs: the meter's and PV simulator's models in one process, for sweeps of many days."""
