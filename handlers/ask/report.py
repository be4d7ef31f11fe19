"""The coaches' report: questions still waiting, answers people found unhelpful."""

from __future__ import annotations

from bot.core.cards import Badge, BlockStyle, Card, TextBlock, Tone
from bot.core.errors import NotPermitted
from bot.core.permissions import Permission, role_names
from bot.core.text import snippet
from bot.core.turn import Turn
from handlers.ask.delivery import hub_delivery
from handlers.ask.records import KIND, Question, from_record

REPORT_LIMIT = 10


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
