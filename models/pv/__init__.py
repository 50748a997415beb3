"""PV models: turn timestamps into PV AC power [kW]."""
