"""The console platform: a terminal chat for the demo and for scripted tours."""
