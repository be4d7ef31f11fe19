"""Intake: social mentions in, validated and enriched, routed to a spoke."""
