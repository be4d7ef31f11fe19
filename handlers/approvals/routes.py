"""Approvals: the router and what every approvals module shares: loading
drafts, the compare-and-set loop, refusals, the approval card to approvers,
the reply state on the mention card."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from bot.core.accounts import Account
from bot.core.cards import Tone
from bot.core.errors import NotFound, PlaycallerError
from bot.core.events import Action, TimerFired
from bot.core.later import LaterCard
from bot.core.model import SYSTEM, Mention, MentionState, Outcome, ReplyState
from bot.core.router import Router
from bot.core.storage import Timer
from bot.core.taking import Slot
from bot.core.turn import INTERACTIVE, Turn
from handlers.approvals import rules
from handlers.approvals.cards import approval_card, author_card, card_key
from handlers.approvals.later import APPROVAL_CARD
from handlers.approvals.records import KIND, Draft, DraftState, from_record, to_record
from handlers.approvals.rules import Refusal
from handlers.triage import rules as triage_rules
from handlers.triage.cards import card_key as mention_card_key
from handlers.triage.cards import local_time, person_name
from handlers.triage.later import MENTION_CARD
from handlers.triage.records import KIND as MENTION_KIND
from handlers.triage.records import from_record as mention_from_record
from handlers.triage.records import to_record as mention_to_record

router = Router("approvals")

Change = Callable[[Draft], Draft | Refusal]
Consequences = Callable[[Turn, Draft, Draft], None]
MAX_CAS_ATTEMPTS = 5
MENTION_SYNC = "approvals.mention_sync"
WATCH_TIMER = "approvals.watch"
DRAFT_CHANGED = "draft_changed"


class Busy(PlaycallerError):
    """The draft kept changing under us."""


def subject(draft: Draft) -> str:
    return f"draft:{draft.id}"


async def load_draft(turn: Turn, draft_id: str) -> Draft:
    record = await turn.store.get(KIND, draft_id)
    if record is None:
        raise NotFound("I can't find that draft; it may have been removed.")
    return from_record(record)


async def load_mention(turn: Turn, key: str | None) -> Mention | None:
    if key is None:
        return None
    record = await turn.store.get(MENTION_KIND, key)
    return mention_from_record(record) if record else None


def account_of(turn: Turn, draft: Draft) -> Account:
    account = turn.settings.accounts.get(draft.account_id)
    if account is None:
        raise NotFound(f"The account {draft.account_id!r} is no longer in the configuration.")
    return account


def show(turn: Turn, draft: Draft, mention: Mention | None) -> None:
    """Update the approval card in place, for everyone who has it."""
    slot = turn.held(f"draft:{draft.id}")
    if slot is not None:
        slot.notes["showing"] = draft.version  # (counts once the holder's write commits)
    account_of(turn, draft)  # (a card for an account no longer configured fails the click)
    # Rendered when sent, from the stored draft (``handlers/approvals/later.py``).
    turn.update_later(LaterCard(APPROVAL_CARD, draft.id, turn.now()), card_key(draft))


async def change_draft(
    turn: Turn,
    draft_id: str,
    change: Change,
    consequences: Consequences,
    *,
    stale_refresh: bool = True,
    first: Draft | None = None,
) -> Draft | None:
    """Read, decide, compare-and-set; reread and decide again on a race, so
    of two approvers at the same moment one decides and the other is told who did.
    ``first``: the draft the handler has just read, tried before reading again
    (a stale copy only costs one lost compare-and-set).

    Decisions on one draft take turns within this process: a click arriving
    while another is deciding the same draft waits for it and then reads the
    outcome, instead of building a decision (cards, effects) that is bound to
    lose. Across processes the compare-and-set alone decides, as before."""
    async with deciding(turn, draft_id) as turns:
        if turns.waited:
            first = None  # read before the other decision landed
        # The draft the decision waited for stored (:func:`draft_after_wait`):
        # a write outside the turn (a pause, the author's edit, another
        # process) may have landed since.
        reused = first if first is not None and first is turns.notes.get("stored") else None
        for _ in range(MAX_CAS_ATTEMPTS):
            current = first if first is not None else await load_draft(turn, draft_id)
            first = None
            verdict = change(current)
            if isinstance(verdict, Refusal) and current is reused and verdict.reason != "decided":
                # No compare-and-set checks a refusal: confirm it on a fresh
                # read. (A decided draft stays decided for approvers: the
                # double click's "already decided" needs no read.)
                reused = None
                continue
            if isinstance(verdict, Refusal):
                # The decision this click waited for updated the card to
                # exactly this version: it needs no refresh.
                fresh = turns.notes.get("shown") == current.version
                await refuse(turn, verdict, refresh=stale_refresh and not fresh)
                return None
            upcoming = verdict.evolve(version=current.version + 1)
            turns.notes["showing"] = None
            consequences(turn, current, upcoming)
            follow_mention(turn, upcoming)
            follow_watchers(turn, current, upcoming)
            written = await turn.replace(to_record(verdict), current.version)
            if written.ok:
                turns.notes["shown"] = turns.notes["showing"]
                turns.notes["stored"] = upcoming
                return upcoming
            turn.discard()
            # A refused compare-and-set carries the record that won: no reread.
            if written.record is not None:
                first = from_record(written.record)
    raise Busy("That draft is changing very fast; please try again in a moment.")


async def draft_after_wait(turn: Turn, draft_id: str, slot: Slot) -> Draft:
    """The draft, for a handler holding its turn: a click that waited for
    another decision in this process takes the draft that decision just
    stored (as a read at that moment would; a write from elsewhere since
    then fails the compare-and-set, which carries the newer draft, and
    :func:`change_draft` reads again before refusing on it), else it reads it."""
    stored = slot.notes.get("stored") if slot.waited else None
    if isinstance(stored, Draft) and stored.id == draft_id:
        return stored
    return await load_draft(turn, draft_id)


def deciding(turn: Turn, draft_id: str) -> contextlib.AbstractAsyncContextManager[Slot]:
    """Hold ``draft_id``'s turn in this process (again: a handler that takes
    it before reading the draft keeps it through :func:`change_draft`)."""
    return turn.hold(f"draft:{draft_id}")


async def refuse(turn: Turn, refusal: Refusal, *, refresh: bool = True) -> None:
    draft = refusal.draft
    if refresh and refusal.reason in ("decided", "stale_version", "not_waiting"):
        mention = await load_mention(turn, draft.mention_key)
        show(turn, draft, mention)
    if turn.actor.person_id == SYSTEM.person_id:
        return
    last = draft.history[-1] if draft.history else None
    step = draft.step
    await turn.say(
        turn.render(
            "approvals/refusal.txt",
            reason=refusal.reason,
            state=draft.state.value,
            by=person_name(turn.settings, rules.deciders(draft)),
            at=local_time(turn.settings, last.at if last else None),
            version=draft.current.number,
            author=person_name(turn.settings, draft.author),
            approvers=", ".join(person_name(turn.settings, p) for p in step.approvers)
            if step
            else "",
        ),
        tone=Tone.ATTENTION,
    )


def reply_state(draft: Draft) -> ReplyState | None:
    """What the mention card should say about this draft (None: nothing)."""
    states = {
        DraftState.PENDING,
        DraftState.CHANGES,
        DraftState.APPROVED,
        DraftState.PUBLISHED,
        DraftState.FAILED,
    }
    if draft.mention_key is None or draft.state not in states:
        return None
    last = draft.history[-1] if draft.history else None
    return ReplyState(
        draft_id=draft.id,
        state=draft.state.value,
        drafted_by=draft.author,
        approved_by=draft.approved_by,
        at=last.at if last else None,
        url=draft.published_url,
        rule=draft.no_approval_rule,
    )


def _sync_key(draft: Draft) -> str:
    return f"{MENTION_SYNC}:{draft.id}:{draft.version}"


def follow_mention(turn: Turn, upcoming: Draft) -> None:
    """Make the draft write that is about to happen carry a durable follow-up:
    the mention's reply state is a second write, and a crash between the two
    must not leave the mention behind. The timer is due at once; the inline
    :func:`update_mention` cancels it, and if it fires anyway it finds nothing
    to do. ``upcoming`` is the draft as it will be stored (its new version)."""
    if upcoming.mention_key is None:
        return
    turn.schedule(Timer(_sync_key(upcoming), MENTION_SYNC, turn.now(), {"id": upcoming.id}))


def follow_watchers(turn: Turn, before: Draft | None, upcoming: Draft) -> None:
    """Tell the features following the draft (its origin, the pauses holding
    it, before or after this write) that it changed: a timer due at once, of
    kind ``<feature>.draft_changed``, rides on the draft write, so a crash
    between this write and the feature's own write loses nothing. Approvals
    never imports the feature (the one-way import rule); the feature's route
    reads the draft and brings its own record up to it (idempotently)."""
    refs = dict.fromkeys((*(before.watchers if before else ()), *upcoming.watchers))
    for ref in refs:
        feature = ref.partition(":")[0]
        turn.schedule(
            Timer(
                f"{WATCH_TIMER}:{ref}:{upcoming.id}:{upcoming.version}",
                f"{feature}.{DRAFT_CHANGED}",
                turn.now(),
                {"draft": upcoming.id, "ref": ref},
            )
        )


@router.timer(MENTION_SYNC)
async def on_mention_sync(turn: Turn, fired: TimerFired) -> None:
    """The backstop: bring the mention up to the draft as it is stored now."""
    record = await turn.store.get(KIND, str(fired.payload["id"]))
    if record is not None:
        await update_mention(turn, from_record(record), inline=False)


async def update_mention(turn: Turn, draft: Draft, *, inline: bool = True) -> None:
    """Show the reply's state on the mention card; a published reply resolves
    the mention as replied. A mention showing another draft is left alone.
    Idempotent: a mention already showing this state is not written again."""
    if draft.mention_key is None:
        return
    reply = reply_state(draft)
    now = turn.now()
    published = draft.state is DraftState.PUBLISHED
    for _ in range(MAX_CAS_ATTEMPTS):
        if inline:
            # The follow-up timer of this draft write has nothing left to do
            # (committed with the mention write, or on its own at the end).
            turn.cancel(_sync_key(draft))
        mention = await load_mention(turn, draft.mention_key)
        if mention is None:
            return
        if reply is None and (mention.reply is None or mention.reply.draft_id != draft.id):
            return
        resolving = published and mention.state is not MentionState.RESOLVED
        if mention.reply == reply and not resolving:
            return
        updated = mention.evolve(reply=reply)
        if resolving:
            updated = updated.evolve(
                state=MentionState.RESOLVED,
                owner=mention.owner or draft.author,
                resolved_by=draft.author,
                resolved_at=now,
                outcome=Outcome.REPLIED,
                last_activity_at=now,
            )
            turn.cancel(*triage_rules.all_timer_keys(updated))
            turn.audit(
                "mention.resolve", f"mention:{mention.key}", outcome="replied", draft=draft.id
            )
        shown = updated.evolve(version=mention.version + 1)
        if shown.surge is None:  # a mention of a surge has no card of its own
            # Rendered when sent, from the stored mention (``handlers/triage/later.py``).
            turn.update_later(LaterCard(MENTION_CARD, mention.key, now), mention_card_key(shown))
        written = await turn.replace(mention_to_record(updated), mention.version)
        if written.ok:
            return
        turn.discard()
    raise Busy("That mention is changing very fast; please try again in a moment.")


def notify_approvers(turn: Turn, draft: Draft, mention: Mention | None) -> None:
    """The approval card to each person who may decide the current step."""
    step = draft.step
    if step is None:
        return
    account_of(turn, draft)
    later = LaterCard(APPROVAL_CARD, draft.id, turn.now())
    for person in rules.eligible(step, draft):
        turn.dm_later(person, later, card_key(draft), priority=INTERACTIVE)


@router.action("draft.refresh", doing="see an approval card")
async def on_refresh(turn: Turn, action: Action) -> None:
    """The approval card again, for one person (Cancel on a Teams form, /approvals)."""
    draft = await load_draft(turn, action.value.removeprefix("draft:"))
    mention = await load_mention(turn, draft.mention_key)
    card = approval_card(
        draft, account_of(turn, draft), mention, turn.settings, turn.templates, turn.now()
    )
    await turn.reply(card, ephemeral=True)


def author_notice(turn: Turn, draft: Draft, what: str, note: str = "") -> None:
    """A DM to the author about a decision on their draft."""
    last = draft.history[-1] if draft.history else None
    title = turn.render("approvals/author_title.txt", what=what)
    text = turn.render(
        "approvals/author.txt",
        what=what,
        by=person_name(turn.settings, last.by if last else None),
        note=note,
    )
    tone = {"rejected": Tone.ATTENTION, "changes_requested": Tone.WARNING}.get(what, Tone.NEUTRAL)
    turn.dm(
        draft.author,
        author_card(title, text, draft, tone=tone, revise=what == "changes_requested"),
        priority=INTERACTIVE,
    )
