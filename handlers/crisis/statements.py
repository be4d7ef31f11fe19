"""Holding statements through the reply-approval workflow, and the
publishing pause.

**Draft statement** on the incident card drafts a holding statement as a new
post on each affected account the clicker may draft for
(``approvals.posting.submit_post``: lint, a coach step, the legal step when
the statement ``requires_legal``, four eyes, publishing exactly once). The
drafts name the incident as their origin, so approvals tells crisis of each
change with a ``crisis.draft_changed`` timer, never an import (crisis ->
approvals, one way): the handler reads the draft and records its state on
the incident (the card updates in place, the timeline gets the approval and
the publication).

The pause is the incident's ``publishing_paused``; a change of it carries a
``crisis.publishing`` timer with its write. The inline path right after (and
that timer, if the process died first) brings approvals' pause in line with
the incident and lists the held posts on the card.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from bot.core.cards import Tone
from bot.core.errors import InvalidInput
from bot.core.events import Action, TimerFired
from bot.core.permissions import Permission
from bot.core.storage import Timer
from bot.core.turn import Turn
from handlers.approvals import pause, posting
from handlers.approvals.records import KIND as DRAFT_KIND
from handlers.approvals.records import from_record as draft_from_record
from handlers.approvals.routes import WATCH_TIMER
from handlers.crisis import rules, statement_rules
from handlers.crisis.cards import parse_button_value, person_name
from handlers.crisis.flow import (
    MAX_CAS_ATTEMPTS,
    PUBLISHING_TIMER,
    Busy,
    follow_up,
    load_incident,
    publishing_timer_key,
    require,
    router,
    subject,
    transition,
)
from handlers.crisis.incident import Incident, StatementPost
from handlers.crisis.records import to_record

DRAFT_ACTION = "crisis.statement"
RUNNING = "run an incident"
# The backstop of a crash in the middle of a pause or resume runs again after this.
RETRY_AFTER = timedelta(minutes=1)


# -- Draft statement -----------------------------------------------------------


@router.action(DRAFT_ACTION, permission=Permission.DRAFT, doing="draft holding statements")
async def on_draft_statement(turn: Turn, action: Action) -> None:
    incident_id, extra, _ = parse_button_value(action.value)
    incident = await load_incident(turn, incident_id)
    statement = next((s for s in incident.statements if extra and s.id == extra[0]), None)
    if statement is None:
        raise InvalidInput("statement", f"{incident.id} has no such holding statement")
    if not incident.open:
        await turn.say(
            turn.render("crisis/refusal.txt", reason="already_resolved", incident=incident.id),
            tone=Tone.ATTENTION,
        )
        return
    drafted: list[tuple[StatementPost, str]] = []
    found: list[StatementPost] = []  # drafted by an earlier click the incident missed
    refused: list[str] = []
    blocked: list[tuple[str, tuple[str, ...]]] = []
    already: list[str] = []
    followed: list[str] = []
    ref = statement_rules.origin(incident.id, statement.id)
    for account_id in incident.accounts:
        account = turn.settings.accounts.get(account_id)
        if account is None:
            continue
        if account_id not in statement_rules.draftable(incident, statement.id):
            already.append(account.handle)
            continue
        round = statement_rules.next_round(incident, statement.id, account_id)
        outcome = await posting.submit_post(
            turn,
            draft_id=statement_rules.draft_id(incident.id, statement.id, account_id, round),
            account=account,
            text=statement.text,
            origin=ref,
            legal=statement.requires_legal,
        )
        if outcome.refused:
            refused.append(account.handle)
        elif outcome.blocked:
            blocked.append((account.handle, outcome.blocked))
        elif outcome.draft is not None and outcome.existed:
            already.append(account.handle)
            found.append(statement_rules.post_of(statement.id, round, outcome.draft))
        elif outcome.draft is not None:
            draft = outcome.draft
            drafted.append((statement_rules.post_of(statement.id, round, draft), account.handle))
            followed.append(f"{WATCH_TIMER}:{ref}:{draft.id}:{draft.version}")
    posts = [*(p for p, _ in drafted), *found]
    if posts:

        def record(current: Incident) -> Incident | rules.Refusal:
            kept = tuple(
                p
                for p in current.statement_posts
                if not any((p.statement, p.account) == (n.statement, n.account) for n in posts)
            )
            return replace(current, statement_posts=(*kept, *posts))

        def audited(turn: Turn, before: Incident, after: Incident) -> None:
            # The drafts' own follow-up timers have nothing left to do once
            # this write records them (cancelled with it, not before).
            turn.cancel(*followed)
            if drafted:
                turn.audit(
                    "incident.statement_drafted",
                    subject(after.id),
                    statement=statement.id,
                    drafts=[p.draft_id for p, _ in drafted],
                )

        await transition(turn, incident.id, record, audited)
    first = drafted[0][0] if drafted else None
    await turn.say(
        turn.render(
            "crisis/statement_drafted.txt",
            statement=statement.id,
            drafted=", ".join(h for _, h in drafted),
            approvers=", ".join(person_name(turn.settings, p) for p in first.waiting_for)
            if first
            else "",
            step=first.step if first else "",
            legal=statement.requires_legal,
            refused=", ".join(refused),
            blocked=[(h, "; ".join(words)) for h, words in blocked],
            already=", ".join(already),
        ),
        tone=Tone.GOOD if drafted else Tone.ATTENTION,
    )


@router.timer(f"{statement_rules.PREFIX}.draft_changed")
async def on_draft_changed(turn: Turn, fired: TimerFired) -> None:
    """Approvals changed a draft this incident follows (a statement, or a
    post its pause holds): bring the incident up to it (idempotent)."""
    parsed = statement_rules.parse_ref(str(fired.payload.get("ref", "")))
    record = await turn.store.get(DRAFT_KIND, str(fired.payload.get("draft", "")))
    if parsed is None or record is None or not await turn.store.get("incident", parsed[0]):
        return
    incident_id, statement = parsed
    draft = draft_from_record(record)
    if statement is not None:
        await follow(
            turn, incident_id, lambda i: statement_rules.follow_statement(i, statement, draft)
        )
        return
    held = await pause.held(turn, statement_rules.pause_ref(incident_id))
    await follow(turn, incident_id, lambda i: statement_rules.with_held(i, held))


async def follow(
    turn: Turn, incident_id: str, change: Callable[[Incident], Incident | rules.Refusal]
) -> Incident | None:
    """Record on the incident what approvals did: compare-and-set like any
    change (the card follows), but nothing to record is no news for anyone."""
    for _ in range(MAX_CAS_ATTEMPTS):
        current = await load_incident(turn, incident_id)
        verdict = change(current)
        if isinstance(verdict, rules.Refusal):
            return None
        upcoming = replace(verdict, version=current.version + 1)
        follow_up(turn, current, upcoming)
        if (await turn.replace(to_record(verdict), current.version)).ok:
            return upcoming
        turn.discard()
    raise Busy("That incident is changing very fast; please try again in a moment.")


# -- the publishing pause ------------------------------------------------------


async def pause_command(turn: Turn, incident_id: str, *, paused: bool) -> None:
    """``/crisis pause`` and ``/crisis resume``: one incident write decides (a
    double click is refused, naming the state), then approvals follows."""
    require(turn, Permission.RUN_CRISIS, RUNNING)
    actor, now = turn.actor.person_id, turn.now()

    def change(incident: Incident) -> Incident | rules.Refusal:
        if paused:
            return rules.pause_publishing(incident, actor, now)
        return rules.resume_publishing(incident, actor, now)

    def audited(turn: Turn, before: Incident, after: Incident) -> None:
        turn.audit(
            "incident.publishing_paused" if paused else "incident.publishing_resumed",
            subject(after.id),
            accounts=list(after.accounts),
        )

    done = await transition(turn, incident_id, change, audited)
    if done is None:
        return
    kept, missed, held = await sync_publishing(turn, done)
    await turn.say(
        turn.render(
            "crisis/publishing.txt",
            paused=paused,
            incident=done.id,
            accounts=", ".join(done.accounts) or "every account",
            held=held,
            kept=kept,
            missed=missed,
        ),
        tone=Tone.GOOD,
    )


async def sync_publishing(
    turn: Turn, incident: Incident, backstop: str | None = None
) -> tuple[int, int, int]:
    """Make approvals' pause match the incident (paused while it says so and
    is open) and list the held posts on the card. Idempotent: run inline
    after the change and, if that died, by its timer. The last write cancels
    the backstop (``backstop``: this change's). Returns (posts that keep
    their time, posts missed, posts held)."""
    ref = statement_rules.pause_ref(incident.id)
    kept = missed = 0
    if incident.publishing_paused and incident.open:
        held = await pause.pause(turn, ref, f"crisis {incident.id}", incident.accounts)
    else:
        released, late = await pause.resume(turn, ref)
        kept, missed = len(released), len(late)
        held = await pause.held(turn, ref)
    turn.cancel(backstop or publishing_timer_key(incident))
    await follow(turn, incident.id, lambda i: statement_rules.with_held(i, held))
    return kept, missed, len(held)


@router.timer(PUBLISHING_TIMER)
async def on_publishing_due(turn: Turn, fired: TimerFired) -> None:
    """The backstop: the process that paused or resumed died before approvals
    followed. Its first write sets the next backstop (this one completes with
    it), so dying here again is retried too; the last write cancels it."""
    incident_id = str(fired.payload.get("incident", ""))
    if await turn.store.get("incident", incident_id) is None:
        return
    attempt = int(fired.payload.get("attempt", 0)) + 1
    again = f"{fired.key.split(':a')[0]}:a{attempt}"
    turn.schedule(
        Timer(
            again,
            PUBLISHING_TIMER,
            turn.now() + RETRY_AFTER,
            {"incident": incident_id, "attempt": attempt},
        )
    )
    await turn.flush()
    await sync_publishing(turn, await load_incident(turn, incident_id), backstop=again)
