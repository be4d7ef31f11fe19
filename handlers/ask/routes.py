"""Ask the playbook store: answers with sources, votes, and a coach when it does not know."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from bot.core.cards import BlockStyle, Card, Form, Input, InputKind, TextBlock, Tone
from bot.core.errors import InvalidInput, NotFound, PlaycallerError, StaleAction
from bot.core.events import Action, Command, FormSubmitted, Message
from bot.core.knowledge import Answer, FaqEntry
from bot.core.permissions import Permission
from bot.core.router import Router
from bot.core.text import snippet
from bot.core.turn import INTERACTIVE, Turn
from handlers.ask.cards import answer_card, hub_card, person_name
from handlers.ask.delivery import HubDelivery, hub_delivery
from handlers.ask.records import KIND, MAX_QUESTION, Question, from_record, to_record
from handlers.ask.report import report

router = Router("ask")


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


@router.action("ask.reply", permission=Permission.ANSWER_QUESTIONS, doing="answer questions")
async def on_reply_clicked(turn: Turn, action: Action) -> None:
    record = await turn.store.get(KIND, action.value)
    if record is None:
        raise NotFound("I can't find that question any more.")
    question = from_record(record)
    if question.reply:
        raise StaleAction(
            turn.render("ask/already_replied.txt", coach=person_name(turn, question.replied_by))
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
            return turn.render("ask/already_replied.txt", coach=person_name(turn, q.replied_by))
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
