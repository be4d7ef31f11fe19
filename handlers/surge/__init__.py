"""Surge mode: one live card per spoke when mentions arrive faster than a channel can take."""

from handlers.surge import raising, routes
from handlers.surge.admission import Lanes, lanes, stored
from handlers.surge.routes import router

__all__ = ["Lanes", "lanes", "raising", "router", "routes", "stored"]
