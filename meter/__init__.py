"""The meter service: simulates a building's consumption and publishes one reading per emulated second."""
