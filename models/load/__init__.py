"""Load models: turn timestamps into a building's consumption [W]."""
