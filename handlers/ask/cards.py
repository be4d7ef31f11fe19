"""The ask cards: the answer to the asker, the hub card coaches work from."""

from __future__ import annotations

from bot.core.cards import Badge, BlockStyle, Button, ButtonStyle, Card, Field, TextBlock, Tone
from bot.core.knowledge import Answer, Source
from bot.core.turn import Turn
from handlers.ask.records import MAX_QUESTION, Question


def person_name(turn: Turn, person_id: str | None) -> str:
    if not person_id:
        return "someone"
    person = turn.settings.people.get(person_id)
    return person.name if person else person_id


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


def hub_card(turn: Turn, question: Question) -> Card:
    """The card coaches see in the hub, updated as the question is answered."""
    fields: list[Field] = []  # the headline names the asker
    blocks = [TextBlock(question.text, quote=True)]
    buttons: tuple[Button, ...]
    badges: tuple[Badge, ...]
    if question.reply:
        coach = person_name(turn, question.replied_by)
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
