"""The live dashboard: the page at ``/`` and what it needs beyond the API (see :mod:`api.dashboard.routes`)."""

from api.dashboard.routes import router

__all__ = ["router"]
