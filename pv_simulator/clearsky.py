"""Moved to :mod:`models.pv.clearsky` and :mod:`models.pv.site`; kept while other branches still import it here."""

from models.pv.clearsky import ClearSkyPv, clearsky_day_kw, clearsky_pv_kw
from models.pv.site import PvSite

__all__ = ["ClearSkyPv", "PvSite", "clearsky_day_kw", "clearsky_pv_kw"]
