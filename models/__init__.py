"""Pure building models: load, PV, devices and the building's model chain.

Nothing in this package logs, reads settings or touches the broker, the database, files or HTTP:
functions take timestamps and arrays and return arrays or DataFrames.
"""
