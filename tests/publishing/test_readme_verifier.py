"""The README's ten-line verifier accepts what the publisher sends and refuses forgeries."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.accounts import Account, Network
from bot.core.publishing import Publication
from bot.publishing import build_request
from tests.conftest import ROOT, START

SECRET = "whsec-test-0123456789abcdef"


def readme_verifier() -> Callable[..., bool]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    contract = readme[readme.index("### Publishing webhook contract") :]
    code = re.search(r"```python\n(.*?)```", contract, re.S)
    assert code is not None
    lines = [line for line in code.group(1).splitlines() if line.strip()]
    assert len(lines) <= 10
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)
    verify: Callable[..., bool] = namespace["verify"]
    return verify


def test_readme_verifier_accepts_a_real_request_and_refuses_forgeries() -> None:
    verify = readme_verifier()
    post = Publication(
        "d-1",
        3,
        Account("a", Network.X, "@acme", "care"),
        "Thanks! 🎉",
        "sam",
        ("maria",),
        datetime(2026, 3, 2, 14, 2, tzinfo=UTC),
    )
    request = build_request(post, secret=SECRET, now=START)
    now = START.timestamp()
    assert verify(SECRET.encode(), request.headers, request.body, now=now)
    assert not verify(b"another-secret-entirely", request.headers, request.body, now=now)
    assert not verify(SECRET.encode(), request.headers, request.body + b" ", now=now)
    late = (START + timedelta(minutes=5, seconds=1)).timestamp()
    assert not verify(SECRET.encode(), request.headers, request.body, now=late)
    unsigned = {k: v for k, v in request.headers.items() if k != "X-Playcaller-Signature"}
    assert not verify(SECRET.encode(), unsigned, request.body, now=now)
    assert not verify(
        SECRET.encode(),
        {**request.headers, "X-Playcaller-Signature": "v1=é"},
        request.body,
        now=now,
    )
