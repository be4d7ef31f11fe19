"""``python -m bot.cli``, as the tests and benches start the command line."""

import sys

from bot.cli.entry import main

if __name__ == "__main__":
    sys.exit(main())
