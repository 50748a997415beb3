"""Moved to :mod:`common.model_settings`; this name stays while work in flight still imports it (issue #17)."""

from common.model_settings import BatterySettings

__all__ = ["BatterySettings"]
