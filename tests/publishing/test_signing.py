"""bot.signing: the v1 HMAC scheme, with time as an argument."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from bot.signing import SignatureError, sign, verify

SECRET = "whsec-test-0123456789abcdef"
BODY = '{"text":"Sorry \u2014 on it 🙏"}'.encode()


def test_sign_is_hmac_sha256_of_the_versioned_base_string() -> None:
    expected = hmac.new(SECRET.encode(), b"v1:1772442000:" + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1772442000, BODY) == f"v1={expected}"


def test_verify_accepts_within_five_minutes_either_way() -> None:
    signature = sign(SECRET, 1772442000, BODY)
    for now in (1772442000, 1772442300, 1772441700):
        verify(SECRET, timestamp="1772442000", signature=signature, body=BODY, now=now)


@pytest.mark.parametrize(
    ("timestamp", "signature", "body", "now", "reason"),
    [
        ("1772442000", "v1=00", BODY, 1772442000, "signature does not match"),
        ("1772442000", None, BODY + b"x", 1772442000, "signature does not match"),
        ("1772442000", None, BODY, 1772442301, "timestamp is outside the allowed window"),
        ("-5", None, BODY, 1772442000, "timestamp is not Unix seconds"),
        ("", None, BODY, 1772442000, "timestamp is not Unix seconds"),
        ("1772442000", "v1=ü", BODY, 1772442000, "signature does not match"),
    ],
)
def test_verify_refuses_with_the_reason(
    timestamp: str, signature: str | None, body: bytes, now: int, reason: str
) -> None:
    signed = signature if signature is not None else sign(SECRET, 1772442000, BODY)
    with pytest.raises(SignatureError, match=reason):
        verify(SECRET, timestamp=timestamp, signature=signed, body=body, now=now)
