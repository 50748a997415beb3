"""Moved to :mod:`models.pv.reference`; kept while other branches still import it here."""

from models.pv.profile import SECONDS_PER_DAY
from models.pv.reference import ReferencePv, reference_day_dw, reference_pv_kw

__all__ = ["SECONDS_PER_DAY", "ReferencePv", "reference_day_dw", "reference_pv_kw"]
