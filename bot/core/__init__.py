"""The neutral core: domain model, events, cards, router, turn and ports.

Nothing here imports a platform SDK or an I/O library.
"""
