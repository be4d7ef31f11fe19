"""Where bundled data lives: a checkout's top-level folders, or the copies
packed into the wheel under ``bot/_data`` (a non-editable install)."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def bundled(name: str) -> Path:
    """The bundled ``playbooks``, ``templates``, ``samples`` or ``playcaller.yaml``."""
    checkout = _PACKAGE.parent / name
    if checkout.exists() and (_PACKAGE.parent / "pyproject.toml").exists():
        return checkout
    packed = _PACKAGE / "_data" / name
    if packed.exists():
        return packed
    raise FileNotFoundError(f"bundled {name} not found (looked in {checkout} and {packed})")
