"""Platforms: converters between a chat platform and the neutral core."""
