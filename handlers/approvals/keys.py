"""What approvals' buttons carry and the keys their cards are updated by."""

from __future__ import annotations

from handlers.approvals.records import Draft

# The longest text any network takes (Reddit); the lint names the account's own limit.
TEXT_LIMIT = 10_000
QUOTE_LIMIT = 1_500


def card_key(draft: Draft) -> str:
    return f"draft:{draft.id}"


def send_key(draft: Draft) -> str:
    """The author's "Mark as sent" card."""
    return f"draftsend:{draft.id}"


def publishing_key(draft: Draft) -> str:
    """The author's card about a webhook publication (publishing, its outcome)."""
    return f"draftpub:{draft.id}"


def button_value(draft: Draft) -> str:
    """A button carries the draft and the version it showed."""
    return f"{draft.id}|{draft.current.number}"


def parse_button_value(value: str) -> tuple[str, int | None]:
    key, _, version = value.rpartition("|")
    if not key:
        return value, None
    return key, int(version) if version.isdigit() else None
