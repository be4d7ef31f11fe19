"""``python -m bot.healthcheck``: exit 0 when the local ``serve`` answers ``/healthz``.

The container's HEALTHCHECK runs this (no curl in a slim image). It asks the
port ``serve`` listens on (``PLAYCALLER_PORT``, default 3978) on loopback.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    port = os.environ.get("PLAYCALLER_PORT", "").strip() or "3978"
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=4) as answer:
            healthy = answer.status == 200
    except (urllib.error.URLError, OSError) as error:
        print(f"unhealthy: {url}: {error}", file=sys.stderr)
        return 1
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
