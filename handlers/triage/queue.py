"""/triage: the person's open claims and the spoke's queue, privately."""

from __future__ import annotations

from datetime import datetime

from bot.core.cards import Button, ButtonStyle, Card, Row, TextBlock
from bot.core.errors import InvalidInput
from bot.core.events import Action, Command
from bot.core.model import Mention, MentionState, Priority
from bot.core.permissions import Permission
from bot.core.settings import Settings
from bot.core.text import single_line, snippet
from bot.core.turn import Turn
from handlers.triage.cards import button_value
from handlers.triage.records import KIND, from_record
from handlers.triage.routes import router
from handlers.triage.rules import sla_left

# Rows shown at once; "Show more" pages through the rest.
PAGE = 5
# How many open mentions per priority are read to sort the queue by time left.
SCAN_LIMIT = 50
SNIPPET = 90


@router.command(
    "triage", permission=Permission.TRIAGE, doing="see the triage queue", usage="/triage [spoke]"
)
async def on_triage(turn: Turn, command: Command) -> None:
    settings = turn.settings
    wanted = command.text.strip().lower()
    if wanted:
        if not settings.has_spoke(wanted):
            known = ", ".join(s.id for s in settings.all_spokes())
            raise InvalidInput(
                "spoke", f"unknown spoke {single_line(wanted, 40)!r}; known: {known}"
            )
        spoke_id = wanted
    else:
        spoke_id = command.channel or (
            turn.actor.spokes[0] if turn.actor.spokes else settings.default_spoke
        )
    await turn.reply(await queue_card(turn, spoke_id, 0), ephemeral=True)


@router.action("triage.queue", permission=Permission.TRIAGE, doing="see the triage queue")
async def on_show_more(turn: Turn, action: Action) -> None:
    spoke_id, _, start = action.value.partition("|")
    if not turn.settings.has_spoke(spoke_id):
        raise InvalidInput("spoke", f"unknown spoke {single_line(spoke_id, 40)!r}")
    await turn.reply(
        await queue_card(turn, spoke_id, int(start) if start.isdigit() else 0), ephemeral=True
    )


async def queue_card(turn: Turn, spoke_id: str, start: int) -> Card:
    """The person's claims, then the spoke's unclaimed mentions by time left."""
    settings = turn.settings
    now = turn.now()
    mine = [
        m
        for m in (
            from_record(r) for r in await turn.store.find(KIND, f"owner:{turn.actor.person_id}")
        )
        if m.state is MentionState.CLAIMED
    ]
    waiting: list[Mention] = []
    for priority in Priority:
        found = await turn.store.find(
            KIND, f"queue:{spoke_id}:open:{priority.value}", limit=SCAN_LIMIT
        )
        waiting += [from_record(r) for r in found]
    # The least time left comes first: that is the one to take.
    waiting.sort(key=lambda m: (sla_left(m, settings, now), m.received_at))
    mine.sort(key=lambda m: sla_left(m, settings, now))
    spoke_name = settings.spoke(spoke_id).name
    page = waiting[start : start + PAGE]
    rows = [_row(turn, settings, m, now, claim=False) for m in mine] if start == 0 else []
    rows += [_row(turn, settings, m, now, claim=True) for m in page]
    blocks = []
    if start == 0:
        blocks.append(
            TextBlock(
                turn.render(
                    "triage/queue.txt", mine=len(mine), spoke=spoke_name, waiting=len(waiting)
                )
            )
        )
    buttons: tuple[Button, ...] = ()
    if start + PAGE < len(waiting):
        buttons = (Button("Show more", "triage.queue", f"{spoke_id}|{start + PAGE}"),)
    return Card(
        title=turn.render("triage/queue_title.txt", spoke=spoke_name),
        blocks=tuple(blocks),
        rows=tuple(rows),
        buttons=buttons,
        context=turn.render(
            "triage/queue_context.txt", shown=len(page), start=start, total=len(waiting)
        ),
    )


def _row(turn: Turn, settings: Settings, m: Mention, now: datetime, *, claim: bool) -> Row:
    left = sla_left(m, settings, now)
    text = turn.render(
        "triage/queue_row.txt",
        priority=m.enrichment.priority.value,
        handle=m.author.handle,
        left=left,
        mine=not claim,
    )
    button = (
        Button("Claim", "triage.claim", button_value(m), ButtonStyle.PRIMARY) if claim else None
    )
    return Row(text=text, snippet=snippet(m.text, SNIPPET), button=button)
