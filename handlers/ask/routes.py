"""Ask the playbook store: answers with sources, votes, and a coach when it does not know."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.core.cards import (
    Badge,
    BlockStyle,
    Button,
    ButtonStyle,
    Card,
    Field,
    Form,
    Input,
    InputKind,
    TextBlock,
    Tone,
)
from bot.core.errors import InvalidInput, NotFound, NotPermitted, PlaycallerError, StaleAction
from bot.core.events import Action, Command, FormSubmitted, Message, TimerFired
from bot.core.knowledge import Answer, FaqEntry, Source
from bot.core.permissions import Permission, role_names
from bot.core.router import Router
from bot.core.storage import Timer
from bot.core.text import snippet
from bot.core.turn import INTERACTIVE, Turn
from handlers.ask.delivery import HubDelivery, hub_delivery
from handlers.ask.records import KIND, MAX_QUESTION, Question, from_record, to_record
from handlers.ask.retention import RETENTION_TIMER, clean_up

router = Router("ask")

REVIEW_TIMER = "ask.review"
REVIEW_AFTER = timedelta(days=90)
REPORT_LIMIT = 10


def _person_name(turn: Turn, person_id: str | None) -> str:
    if not person_id:
        return "someone"
    person = turn.settings.people.get(person_id)
    return person.name if person else person_id


@router.command(
    "ask",
    permission=Permission.ASK,
    doing="ask about the social media guidelines",
    usage="/ask QUESTION",
)
async def on_ask_command(turn: Turn, command: Command) -> None:
    text = command.text.strip()
    if text.lower() == "report":
        await report(turn)
        return
    await ask(turn, text)


@router.message(permission=Permission.ASK, doing="ask about the social media guidelines")
async def on_message(turn: Turn, message: Message) -> None:
    # Anything said to the bot that no other route understood is a question.
    await ask(turn, message.text)


async def ask(turn: Turn, raw: str) -> None:
    """Answer a question from the guidelines, or say plainly that we do not know."""
    question_text = " ".join(raw.split())
    if not question_text:
        await turn.say(turn.render("ask/usage.txt"))
        return
    truncated = len(question_text) > MAX_QUESTION
    question_text = question_text[:MAX_QUESTION]
    answer = turn.knowledge.answer(question_text)
    if answer.answered and not answer.sources:
        # An answer without a source is never shown.
        answer = Answer(False, answer.confidence, "", ())
    question = Question(
        key=uuid.uuid4().hex[:16],
        text=question_text,
        asker=turn.actor.person_id,
        asker_name=turn.actor.name,
        asked_at=turn.now(),
        answered=answer.answered,
        confidence=answer.confidence,
        sources=tuple(f"{s.doc}#{s.heading}" for s in answer.sources[:3]),
        version=1,
    )
    turn.audit(
        "question.asked",
        f"question:{question.key}",
        answered=answer.answered,
        confidence=answer.confidence,
    )
    await turn.insert(to_record(question))
    await turn.reply(answer_card(turn, question, answer, truncated), ephemeral=True)


# At or above this, the badge says the passage matches; below, to check the source.
CONFIDENT = 0.7


def answer_card(turn: Turn, question: Question, answer: Answer, truncated: bool) -> Card:
    """What was asked in small print, the answer prominent, its source like a link."""
    blocks = [TextBlock(turn.render("ask/asked.txt", text=question.text), style=BlockStyle.SUBTLE)]
    if truncated:
        blocks.append(
            TextBlock(turn.render("ask/truncated.txt", limit=MAX_QUESTION), style=BlockStyle.SUBTLE)
        )
    buttons: tuple[Button, ...]
    badges: tuple[Badge, ...]
    if answer.answered:
        best = answer.sources[0]
        blocks.append(TextBlock(answer.passage, style=BlockStyle.PROMINENT))
        blocks.append(
            TextBlock(turn.render("ask/source.txt", **_source_words(best)), style=BlockStyle.SOURCE)
        )
        buttons = (
            Button("Helpful", "ask.vote", f"{question.key}|helpful", ButtonStyle.PRIMARY),
            Button("Not helpful", "ask.vote", f"{question.key}|not_helpful"),
            Button("Ask a coach", "ask.handoff", question.key),
        )
        title = turn.render("ask/answer_title.txt", title=best.title)
        sure = answer.confidence >= CONFIDENT
        badges = (
            Badge(
                "Close match" if sure else "Check the source", Tone.GOOD if sure else Tone.WARNING
            ),
        )
    else:
        blocks.append(TextBlock(turn.render("ask/unsure.txt"), style=BlockStyle.PROMINENT))
        leads = [turn.render("ask/lead.txt", **_source_words(s)) for s in answer.sources[:3]]
        if leads:
            blocks.append(TextBlock(turn.render("ask/leads.txt", leads=leads)))
        buttons = (Button("Ask a coach", "ask.handoff", question.key, ButtonStyle.PRIMARY),)
        title = turn.render("ask/unsure_title.txt")
        badges = (Badge("No clear answer", Tone.WARNING),)
    return Card(
        title=title,
        badges=badges,
        blocks=tuple(blocks),
        buttons=buttons,
        context=turn.render("ask/context.txt", confidence=answer.confidence),
    )


def _source_words(source: Source) -> dict[str, object]:
    return {
        "title": source.title,
        "heading": source.heading,
        "doc": source.doc,
        "reviewed": source.last_reviewed.isoformat() if source.last_reviewed else None,
        "owner": source.owner,
    }


async def _change(
    turn: Turn,
    key: str,
    change: Callable[[Question], Question | str],
    effects: Callable[[Question], None],
) -> Question | None:
    """Compare-and-set a question; a string from ``change`` is a refusal to say."""
    for _ in range(5):
        record = await turn.store.get(KIND, key)
        if record is None:
            raise NotFound("I can't find that question any more.")
        current = from_record(record)
        verdict = change(current)
        if isinstance(verdict, str):
            await turn.say(verdict, tone=Tone.ATTENTION)
            return None
        upcoming = verdict.evolve(version=current.version + 1)
        effects(upcoming)
        if (await turn.replace(to_record(verdict), current.version)).ok:
            return upcoming
    raise PlaycallerError("That question is changing very fast; please try again.")


@router.action("ask.vote", permission=Permission.ASK, doing="rate an answer")
async def on_vote(turn: Turn, action: Action) -> None:
    key, _, vote = action.value.partition("|")
    if vote not in ("helpful", "not_helpful"):
        raise InvalidInput("vote", "helpful or not_helpful")
    voter = turn.actor.person_id

    def change(q: Question) -> Question | str:
        if q.votes.get(voter) == vote:
            return turn.render("ask/voted.txt", vote=vote, again=True)
        return q.evolve(votes={**q.votes, voter: vote})

    def effects(q: Question) -> None:
        turn.audit("question.vote", f"question:{key}", vote=vote)

    if await _change(turn, key, change, effects):
        await turn.say(turn.render("ask/voted.txt", vote=vote, again=False), tone=Tone.GOOD)


@router.action("ask.handoff", permission=Permission.ASK, doing="ask a coach")
async def on_handoff(turn: Turn, action: Action) -> None:
    key = action.value
    record = await turn.store.get(KIND, key)
    if record is None:
        raise NotFound("I can't find that question any more.")
    earlier = from_record(record)
    if earlier.handed_off_at is not None:
        delivery = await hub_delivery(turn, earlier)
        if delivery is not HubDelivery.FAILED:
            # Say where it is: queued is not the same as with the coaches.
            await turn.say(turn.render("ask/already_handed_off.txt", delivery=delivery.value))
            return

    def change(q: Question) -> Question | str:
        if q.handed_off_at != earlier.handed_off_at:  # someone handed it off meanwhile
            return turn.render("ask/already_handed_off.txt", delivery="waiting")
        return q.evolve(handed_off_at=turn.now())

    def effects(q: Question) -> None:
        turn.post(turn.settings.hub.id, hub_card(turn, q), priority=INTERACTIVE)
        turn.audit("question.handoff", f"question:{key}", again=earlier.handed_off_at is not None)

    if await _change(turn, key, change, effects):
        await turn.say(
            turn.render("ask/handed_off.txt", again=earlier.handed_off_at is not None),
            tone=Tone.GOOD,
        )


def hub_card(turn: Turn, question: Question) -> Card:
    """The card coaches see in the hub, updated as the question is answered."""
    fields: list[Field] = []  # the headline names the asker
    blocks = [TextBlock(question.text, quote=True)]
    buttons: tuple[Button, ...]
    badges: tuple[Badge, ...]
    if question.reply:
        coach = _person_name(turn, question.replied_by)
        blocks.append(
            TextBlock(turn.render("ask/hub_reply.txt", coach=coach), style=BlockStyle.HEADING)
        )
        blocks.append(TextBlock(question.reply))
        if question.saved_as:
            badges = (
                Badge(f"Answered by {coach}", Tone.GOOD),
                Badge("Saved as guidance", Tone.GOOD),
            )
            fields.append(Field("Saved in", question.saved_as))
            buttons = ()
        else:
            badges = (Badge(f"Answered by {coach}", Tone.GOOD),)
            buttons = (Button("Save as guidance", "ask.save", question.key, ButtonStyle.PRIMARY),)
    else:
        badges = (Badge("Waiting for a coach", Tone.WARNING),)
        buttons = (Button("Reply", "ask.reply", question.key, ButtonStyle.PRIMARY),)
    return Card(
        title=turn.render("ask/hub_title.txt", asker=question.asker_name),
        badges=badges,
        blocks=tuple(blocks),
        fields=tuple(fields),
        buttons=buttons,
        context=turn.render("ask/hub_context.txt"),
        at=question.asked_at,
        card_key=f"question:{question.key}",
    )


@router.action("ask.reply", permission=Permission.ANSWER_QUESTIONS, doing="answer questions")
async def on_reply_clicked(turn: Turn, action: Action) -> None:
    record = await turn.store.get(KIND, action.value)
    if record is None:
        raise NotFound("I can't find that question any more.")
    question = from_record(record)
    if question.reply:
        raise StaleAction(
            turn.render("ask/already_replied.txt", coach=_person_name(turn, question.replied_by))
        )
    await turn.open_form(
        Form(
            form_id="ask.reply",
            title="Answer the question",
            intro=turn.render(
                "ask/reply_form.txt",
                asker=question.asker_name,
                question=snippet(question.text, 300),
            ),
            inputs=(
                Input("answer", "Your answer", InputKind.MULTILINE, required=True, max_length=2000),
            ),
            submit_label="Send",
            context=question.key,
            return_to=f"question:{question.key}",
        )
    )


@router.action(
    "question.refresh", permission=Permission.ANSWER_QUESTIONS, doing="see a question card"
)
async def on_refresh(turn: Turn, action: Action) -> None:
    """The hub card again, for one coach (Cancel on a Teams form)."""
    record = await turn.store.get(KIND, action.value.removeprefix("question:"))
    if record is None:
        raise NotFound("I can't find that question any more.")
    await turn.reply(hub_card(turn, from_record(record)), ephemeral=True)


@router.form("ask.reply", permission=Permission.ANSWER_QUESTIONS, doing="answer questions")
async def on_reply(turn: Turn, form: FormSubmitted) -> None:
    reply = form.values.get("answer", "").strip()
    if not reply:
        raise InvalidInput("answer", "write the answer to send")
    coach = turn.actor.person_id

    def change(q: Question) -> Question | str:
        if q.reply:
            return turn.render("ask/already_replied.txt", coach=_person_name(turn, q.replied_by))
        return q.evolve(reply=reply[:2000], replied_by=coach, replied_at=turn.now())

    def effects(q: Question) -> None:
        turn.dm(
            q.asker,
            Card(
                title=turn.render("ask/dm_title.txt", coach=turn.actor.name),
                blocks=(
                    TextBlock(turn.render("ask/asked.txt", text=q.text), style=BlockStyle.SUBTLE),
                    TextBlock(q.reply or "", style=BlockStyle.PROMINENT),
                ),
            ),
            priority=INTERACTIVE,
        )
        turn.update(hub_card(turn, q))
        turn.audit("question.reply", f"question:{q.key}")

    replied = await _change(turn, form.context, change, effects)
    if replied:
        await turn.say(turn.render("ask/reply_sent.txt", asker=replied.asker_name), tone=Tone.GOOD)


@router.action("ask.save", permission=Permission.ANSWER_QUESTIONS, doing="save guidance")
async def on_save(turn: Turn, action: Action) -> None:
    key = action.value
    coach = turn.actor.person_id

    def change(q: Question) -> Question | str:
        if not q.reply:
            return turn.render("ask/nothing_to_save.txt")
        if q.saved_as:
            return turn.render("ask/already_saved.txt", doc=q.saved_as)
        return q.evolve(saved_as="faq.md")

    def effects(q: Question) -> None:
        turn.update(hub_card(turn, q))
        turn.audit("guidance.saved", f"question:{q.key}", doc="faq.md")

    saved = await _change(turn, key, change, effects)
    if saved is None:
        return
    assert saved.reply is not None
    doc = turn.knowledge.save_faq(FaqEntry(saved.text, saved.reply, coach, turn.now().date()))
    await turn.say(turn.render("ask/saved.txt", doc=doc), tone=Tone.GOOD)


async def report(turn: Turn) -> None:
    """Coaches' view: questions not answered yet, and answers people found unhelpful."""
    if not turn.actor.may(Permission.ASK_REPORT):
        raise NotPermitted(
            "see the questions report", role_names(turn.settings.permissions, Permission.ASK_REPORT)
        )
    # Unanswered by the guidelines, or handed to the coaches and not replied to.
    waiting = {
        r.key: from_record(r)
        for tag in ("open", "status:handed_off")
        for r in await turn.store.find(KIND, tag, limit=1000)
    }
    open_questions = sorted(waiting.values(), key=lambda q: q.asked_at, reverse=True)[:REPORT_LIMIT]
    delivery = {
        q.key: (await hub_delivery(turn, q)).value for q in open_questions if q.handed_off_at
    }
    unhelpful = sorted(
        (from_record(r) for r in await turn.store.find(KIND, "unhelpful", limit=1000)),
        key=lambda q: (-q.unhelpful, q.asked_at),
    )[:REPORT_LIMIT]

    def line(q: Question) -> dict[str, object]:
        return {
            "text": snippet(q.text, 100),
            "asker": q.asker_name,
            "when": q.asked_at.strftime("%Y-%m-%d"),
            "status": q.status,
            "hub": delivery.get(q.key),
            "unhelpful": q.unhelpful,
        }

    blocks: list[TextBlock] = []
    for part, items in (("open", open_questions), ("unhelpful", unhelpful)):
        blocks.append(
            TextBlock(
                turn.render("ask/report.txt", part=part, count=len(items)),
                style=BlockStyle.HEADING,
            )
        )
        blocks += [
            TextBlock(turn.render("ask/report_line.txt", part=part, **line(q))) for q in items
        ]
    await turn.reply(
        Card(
            title=turn.render("ask/report_title.txt"),
            badges=(
                Badge(f"{len(open_questions)} open", Tone.WARNING if open_questions else Tone.GOOD),
                Badge(f"{len(unhelpful)} unhelpful", Tone.ATTENTION if unhelpful else Tone.GOOD),
            ),
            blocks=tuple(blocks),
        ),
        ephemeral=True,
    )


def review_timer(now: datetime) -> Timer:
    """Next Monday 09:00 UTC: the weekly check for guidelines due a review."""
    days = (7 - now.weekday()) % 7 or 7
    due = (now + timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)
    return Timer(REVIEW_TIMER, REVIEW_TIMER, due)


@router.timer(RETENTION_TIMER)
async def on_retention(turn: Turn, timer: TimerFired) -> None:
    await clean_up(turn)


@router.timer(REVIEW_TIMER)
async def on_review(turn: Turn, timer: TimerFired) -> None:
    today = turn.now().date()
    overdue: dict[str, list[dict[str, str]]] = {}
    for doc in turn.knowledge.guidelines():
        due = doc.last_reviewed is not None and today - doc.last_reviewed > REVIEW_AFTER
        if doc.owner and doc.owner in turn.settings.people and due:
            assert doc.last_reviewed is not None
            overdue.setdefault(doc.owner, []).append(
                {"title": doc.title, "doc": doc.doc, "reviewed": doc.last_reviewed.isoformat()}
            )
    for owner, docs in sorted(overdue.items()):
        turn.dm(
            owner,
            Card(
                title=turn.render("ask/review_title.txt", count=len(docs)),
                blocks=(
                    TextBlock(turn.render("ask/review.txt", docs=docs, days=REVIEW_AFTER.days)),
                ),
            ),
        )
        turn.audit("guideline.review_reminder", f"person:{owner}", docs=[d["doc"] for d in docs])
    turn.schedule(review_timer(turn.now()))
