"""An acknowledged decision always reaches the mention: the process dies after
the draft's deciding write and before the mention's write, and after a restart
the mention (record and card) shows the decision exactly once.

The "death" is a store whose mention write never happens: the handler is
stopped by an exception no handler catches (as SIGKILL would stop it), the
store keeps exactly what was committed, and a new runtime is opened on the
same SQLite file or Redis namespace. The chat screen outlives the bot, so the
restarted session shows the cards the first one posted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.app import Loaded
from bot.core.model import MentionState
from bot.core.storage import Effects, Record, Written
from handlers.approvals.records import KIND, from_record
from handlers.approvals.routes import MENTION_SYNC
from handlers.triage.records import KIND as MENTION_KIND
from handlers.triage.records import from_record as mention_from_record
from tests.approvals.test_approval_flow import GOOD_REPLY, mention_line
from tests.conftest import Chat, open_chat, writable_guidelines


class Killed(BaseException):
    """The process died here (nothing after this line ran)."""


def die_before_mention_writes(monkeypatch: pytest.MonkeyPatch, chat: Chat) -> None:
    real: Callable[..., Any] = chat.store.replace

    async def replace(record: Record, expected_version: int, effects: Effects) -> Written:
        if record.kind == MENTION_KIND:
            raise Killed
        written: Written = await real(record, expected_version, effects)
        return written

    monkeypatch.setattr(chat.store, "replace", replace)


async def restart(chat: Chat, store_backend: tuple[str, str], loaded: Loaded, tmp: Path) -> Chat:
    url, namespace = store_backend
    restarted = await open_chat(url, namespace, writable_guidelines(loaded, tmp))
    restarted.session.shown = chat.session.shown
    await restarted.run("advance 1s")
    return restarted


async def mention_version(chat: Chat) -> int:
    record = await chat.store.get(MENTION_KIND, "x:42")
    assert record is not None
    return record.version


async def test_a_crash_between_the_decision_and_the_mention_write_is_caught_up(
    chat: Chat,
    store_backend: tuple[str, str],
    loaded: Loaded,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await chat.run(mention_line(), "as sam", "click Claim #1", "click Draft reply #1")
    await chat.run(f"fill text={json.dumps(GOOD_REPLY)}", "submit")
    assert "Reply drafted by Sam, waiting for approval" in chat.card(1)
    before = await mention_version(chat)

    with monkeypatch.context() as patch:
        die_before_mention_writes(patch, chat)
        with pytest.raises(Killed):
            await chat.run("as maria", "click Approve #2")
    (draft,) = [from_record(r) for r in await chat.store.find(KIND, "state:approved")]
    # The decision is committed; the mention is one step behind, with its follow-up due.
    assert await mention_version(chat) == before
    assert await chat.store.pending_timers(f"{MENTION_SYNC}:{draft.id}:")

    first = await restart(chat, store_backend, loaded, tmp_path / "g1")
    assert "Reply by Sam approved by Maria, 09:00 · waiting to be sent" in first.card(1)
    assert await mention_version(first) == before + 1
    assert not await first.store.pending_timers(MENTION_SYNC)
    log = await first.store.audit_log(f"draft:{draft.id}")
    assert [e.action for e in log].count("draft.approved") == 1

    # The author marks it sent; the process dies again before the mention write.
    with monkeypatch.context() as patch:
        die_before_mention_writes(patch, first)
        with pytest.raises(Killed):
            await first.run(
                "as sam",
                "click Mark as sent #3",
                'fill url="https://x.com/acme/status/7"',
                "submit",
            )
    second = await restart(first, store_backend, loaded, tmp_path / "g2")
    assert "Replied by Sam, approved by Maria, 09:00" in second.card(1)
    assert "[Open post ↗] [Open reply ↗]" in second.card(1)
    record = await second.store.get(MENTION_KIND, "x:42")
    assert record is not None
    mention = mention_from_record(record)
    assert mention.state is MentionState.RESOLVED
    assert mention.reply is not None and mention.reply.url == "https://x.com/acme/status/7"
    assert record.version == before + 2
    resolved = [
        e for e in await second.store.audit_log("mention:x:42") if e.action == "mention.resolve"
    ]
    assert [(e.actor, e.detail.get("outcome")) for e in resolved] == [("system", "replied")]
    # Nothing is left to fire, and firing again changes nothing.
    await second.run("advance 1m")
    assert await mention_version(second) == before + 2
    await first.store.close()
    await second.store.close()


async def test_the_inline_path_leaves_the_follow_up_nothing_to_do(chat: Chat) -> None:
    await chat.run(mention_line(), "as sam", "click Claim #1", "click Draft reply #1")
    await chat.run(f"fill text={json.dumps(GOOD_REPLY)}", "submit", "as maria", "click Approve #2")
    assert "Reply by Sam approved by Maria, 09:00 · waiting to be sent" in chat.card(1)
    assert not await chat.store.pending_timers(MENTION_SYNC)
    version = await mention_version(chat)
    await chat.run("advance 1m")
    assert await mention_version(chat) == version
