"""HMAC request signing, the scheme of Slack's request signing with our own
version tag: ``v1=<hex HMAC-SHA256 of "v1:<timestamp>:<body>">``.

Pure functions: the time is an argument, the secret is passed in (it comes
from the environment and is never logged).
"""

from __future__ import annotations

import hashlib
import hmac

VERSION = "v1"
TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    """A signed request failed verification (the reason names which check)."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Playcaller-Signature`` value for ``body`` sent at ``timestamp``."""
    base = f"{VERSION}:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return f"{VERSION}={digest}"


def verify(
    secret: str,
    *,
    timestamp: str,
    signature: str,
    body: bytes,
    now: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> None:
    """Raise :class:`SignatureError` unless ``signature`` signs ``body`` at
    ``timestamp`` (Unix seconds) within ``tolerance`` seconds of ``now``."""
    if not timestamp.isdigit():
        raise SignatureError("timestamp is not Unix seconds")
    if abs(now - int(timestamp)) > tolerance:
        raise SignatureError("timestamp is outside the allowed window")
    expected = sign(secret, int(timestamp), body)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise SignatureError("signature does not match")
