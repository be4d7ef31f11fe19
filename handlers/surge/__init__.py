"""Surge mode: one live card per spoke when mentions arrive faster than a channel can take."""

from handlers.surge import raising, routes
from handlers.surge.admission import Lanes, arrival_counts, lanes
from handlers.surge.routes import router

__all__ = ["Lanes", "arrival_counts", "lanes", "raising", "router", "routes"]
