"""The ``playcaller`` command line (the console script ``bot.cli:main``).

The entry point is :mod:`bot.cli.entry`, the options :mod:`bot.cli.options`, and each
command group has a module of its own.
"""

from bot.cli.entry import main

__all__ = ["main"]
