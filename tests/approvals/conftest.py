"""Fixtures shared by these tests."""

from __future__ import annotations

# Webhook publishing in the console (a signed local receiver and the publish lane).
from tests.publish_lane import lane, receiver  # noqa: F401
