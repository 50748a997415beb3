"""The PV simulator service: consumes meter readings, adds PV power and writes daily CSVs."""
