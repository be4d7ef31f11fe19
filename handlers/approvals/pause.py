"""Publishing pauses: while a pause covers an account, no scheduled post on
it is published.

A pause is one record (kind ``publishing_pause``, keyed by whoever holds it,
e.g. ``crisis:CR-4``) naming the accounts it covers (none named: every
account). It is the truth the publish decision reads: a scheduled post's
timer reads the pauses and then decides with a compare-and-set on the draft,
either queuing the publish or marking the draft held. Holding marks the
draft (``held_by``), so a pause that starts while a timer decides meets it on
the draft's version: one of the two writes wins and the other rereads.

Pausing also holds at once every approved scheduled post the pause covers
(listed by the caller, their authors told); resuming lets posts still in the
future keep their time and never publishes a post whose time passed during
the pause: it is marked missed and its author told, to schedule it again if
it still fits (a post going out hours late is a surprise nobody wants).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.cards import Card, TextBlock, Tone
from bot.core.storage import Record, Timer
from bot.core.turn import INTERACTIVE, Turn
from handlers.approvals.cards import account_line
from handlers.approvals.records import KIND as DRAFT_KIND
from handlers.approvals.records import Decision, Draft, DraftState, from_record
from handlers.approvals.records import to_record as draft_record
from handlers.approvals.routes import MAX_CAS_ATTEMPTS, Busy, follow_watchers, subject
from handlers.approvals.rules import Refusal
from handlers.triage.cards import local_time

KIND = "publishing_pause"
PUBLISH_TIMER = "approvals.publish"


@dataclass(frozen=True)
class Pause:
    """One pause: who holds it (``ref``), what it is called in words
    (``label``, "crisis CR-4"), the accounts it covers (empty: all)."""

    ref: str
    label: str
    accounts: tuple[str, ...]
    by: str
    at: datetime
    version: int = 0

    def covers(self, account_id: str) -> bool:
        return not self.accounts or account_id in self.accounts


def to_record(pause: Pause) -> Record:
    data: dict[str, Any] = {
        "label": pause.label,
        "accounts": list(pause.accounts),
        "by": pause.by,
        "at": pause.at.isoformat(),
    }
    return Record(KIND, pause.ref, data, pause.version, frozenset({"active"}))


def pause_from_record(record: Record) -> Pause:
    d = record.data
    return Pause(
        ref=record.key,
        label=str(d["label"]),
        accounts=tuple(d["accounts"]),
        by=str(d["by"]),
        at=datetime.fromisoformat(d["at"]),
        version=record.version,
    )


def publish_timer(draft: Draft) -> Timer:
    """The timer that publishes an approved scheduled post at its time."""
    assert draft.publish_at is not None
    return Timer(
        f"{PUBLISH_TIMER}:{draft.id}",
        PUBLISH_TIMER,
        draft.publish_at,
        {"id": draft.id, "version": draft.current.number},
    )


async def active_pauses(turn: Turn) -> list[Pause]:
    return [pause_from_record(r) for r in await turn.store.find(KIND, "active")]


def covering(pauses: list[Pause], account_id: str) -> tuple[str, ...]:
    return tuple(p.ref for p in pauses if p.covers(account_id))


# -- pure transitions ------------------------------------------------------------


def releasing(draft: Draft) -> bool:
    """Its publish was decided already (queued, or handed to the author)."""
    return draft.last("publish_due") is not None


def hold(draft: Draft, refs: tuple[str, ...], by: str, now: datetime) -> Draft | Refusal:
    """Hold an approved scheduled post for the pauses ``refs``."""
    if draft.state is not DraftState.APPROVED or draft.publish_at is None:
        return Refusal("not_scheduled", draft)
    if releasing(draft):
        return Refusal("released", draft)
    new = tuple(r for r in refs if r not in draft.held_by)
    if not new:
        return Refusal("already_held", draft)
    history = (*draft.history, Decision("held", by, now, draft.current.number, ", ".join(new)))
    return draft.evolve(held_by=(*draft.held_by, *new), history=history)


def unhold(draft: Draft, ref: str, by: str, now: datetime) -> Draft | Refusal:
    """The pause ``ref`` ended. Still held by another: only that is left.
    Otherwise a post whose time has not come keeps it; one whose time passed
    is missed, never published late."""
    if ref not in draft.held_by:
        return Refusal("not_held", draft)
    left = tuple(r for r in draft.held_by if r != ref)
    late = (
        not left
        and draft.state is DraftState.APPROVED
        and draft.publish_at is not None
        and draft.publish_at <= now
        and not releasing(draft)
    )
    what = "missed" if late else "released"
    history = (*draft.history, Decision(what, by, now, draft.current.number, ref))
    if late:
        return draft.evolve(held_by=left, state=DraftState.MISSED, history=history)
    return draft.evolve(held_by=left, history=history)


# -- in the store ------------------------------------------------------------------

Change = Callable[[Draft], Draft | Refusal]
Consequences = Callable[[Turn, Draft, Draft], None]


async def quietly(
    turn: Turn, draft: Draft, change: Change, consequences: Consequences
) -> Draft | None:
    """Compare-and-set on a draft the actor did not click: a refusal is no
    news for them (None), a race is decided again on a fresh read."""
    current: Draft | None = draft
    for _ in range(MAX_CAS_ATTEMPTS):
        if current is None:
            record = await turn.store.get(DRAFT_KIND, draft.id)
            if record is None:
                return None
            current = from_record(record)
        verdict = change(current)
        if isinstance(verdict, Refusal):
            return None
        upcoming = verdict.evolve(version=current.version + 1)
        consequences(turn, current, upcoming)
        follow_watchers(turn, current, upcoming)
        written = await turn.replace(draft_record(verdict), current.version)
        if written.ok:
            return upcoming
        turn.discard()
        current = None
    raise Busy("That post is changing very fast; please try again in a moment.")


def held_notice(turn: Turn, before: Draft, after: Draft, labels: str) -> None:
    """Audit the hold and tell the author (only when it newly holds)."""
    if not after.held_by or set(after.held_by) <= set(before.held_by):
        return
    turn.audit("draft.held", subject(after), by=list(after.held_by), publish_at=_at(after))
    _tell_author(turn, after, "held", labels)


async def pause(turn: Turn, ref: str, label: str, accounts: tuple[str, ...]) -> list[Draft]:
    """Start the pause ``ref`` (once: a second call finds it) and hold every
    approved scheduled post it covers whose time has not come. Returns the
    posts it holds now."""
    now = turn.now()
    existing = await turn.store.get(KIND, ref)
    current = pause_from_record(existing) if existing else None
    if current is None:
        current = Pause(ref, label, accounts, turn.actor.person_id, now)
        turn.audit("publishing.paused", f"pause:{ref}", accounts=list(accounts), label=label)
        written = await turn.insert(to_record(current))
        if not written.ok:
            turn.discard()
            current = pause_from_record(written.record) if written.record else current
    for record in await turn.store.find(DRAFT_KIND, "scheduled", limit=1000):
        draft = from_record(record)
        if not current.covers(draft.account_id) or (draft.publish_at or now) <= now:
            continue
        await quietly(
            turn,
            draft,
            lambda d: hold(d, (ref,), turn.actor.person_id, now),
            lambda t, before, after: held_notice(t, before, after, label),
        )
    return await held(turn, ref)


async def held(turn: Turn, ref: str) -> list[Draft]:
    """The posts the pause ``ref`` holds, oldest first."""
    found = [from_record(r) for r in await turn.store.find(DRAFT_KIND, f"held:{ref}", limit=1000)]
    return sorted(found, key=lambda d: (d.publish_at or d.created_at, d.id))


async def resume(turn: Turn, ref: str) -> tuple[list[Draft], list[Draft]]:
    """End the pause ``ref`` and let its posts go: (kept their time, missed).
    The pause record goes first, so a timer firing from here on publishes;
    running this again (after a crash) finishes the posts still held."""
    now = turn.now()
    existing = await turn.store.get(KIND, ref)
    label = pause_from_record(existing).label if existing else ref
    if existing is not None:
        turn.audit("publishing.resumed", f"pause:{ref}")
        written = await turn.delete(existing)
        if not written.ok:
            turn.discard()
    kept: list[Draft] = []
    missed: list[Draft] = []

    def released(turn: Turn, before: Draft, after: Draft) -> None:
        if after.held_by:
            return
        if after.state is DraftState.MISSED:
            turn.audit("draft.missed", subject(after), publish_at=_at(after), held_by=ref)
            _tell_author(turn, after, "missed", label)
            return
        turn.audit("draft.released", subject(after), publish_at=_at(after), held_by=ref)
        if after.state is not DraftState.APPROVED:
            return  # (cancelled meanwhile: nothing goes out, nothing to say)
        if after.publish_at is not None and after.publish_at > now and not releasing(after):
            turn.schedule(publish_timer(after))
            _tell_author(turn, after, "released", label)

    for draft in await held(turn, ref):
        done = await quietly(
            turn, draft, lambda d: unhold(d, ref, turn.actor.person_id, now), released
        )
        if done is None or done.held_by:
            continue
        (missed if done.state is DraftState.MISSED else kept).append(done)
    return kept, missed


def _at(draft: Draft) -> str | None:
    return draft.publish_at.isoformat() if draft.publish_at else None


def _tell_author(turn: Turn, draft: Draft, what: str, label: str) -> None:
    account = turn.settings.accounts.get(draft.account_id)
    title = turn.render("approvals/held_title.txt", what=what)
    text = turn.render(
        "approvals/held.txt",
        what=what,
        label=label,
        account=account.handle if account else draft.account_id,
        account_id=draft.account_id,
        at=local_time(turn.settings, draft.publish_at),
    )
    tone = {"held": Tone.WARNING, "missed": Tone.ATTENTION}.get(what, Tone.GOOD)
    turn.dm(
        draft.author,
        Card(
            title=title,
            blocks=(TextBlock(text, tone=tone), TextBlock(draft.text, quote=True)),
            context=f"Scheduled post on {account_line(account)}" if account else "",
            at=draft.publish_at,
        ),
        priority=INTERACTIVE,
    )
