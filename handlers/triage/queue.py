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
    spoke_id, start, offsets = parse_queue_value(action.value)
    if not turn.settings.has_spoke(spoke_id):
        raise InvalidInput("spoke", f"unknown spoke {single_line(spoke_id, 40)!r}")
    await turn.reply(await queue_card(turn, spoke_id, start, offsets), ephemeral=True)


def parse_queue_value(value: str) -> tuple[str, int, tuple[int, ...] | None]:
    """``spoke|start|o1,o2,...``: the page's first row and, per priority, how
    many of that priority's open mentions the earlier pages showed.

    Buttons posted before the offsets existed carry ``spoke|start`` only."""
    spoke_id, _, rest = value.partition("|")
    start_text, _, offsets_text = rest.partition("|")
    start = int(start_text) if start_text.isdigit() else 0
    parts = offsets_text.split(",") if offsets_text else []
    if len(parts) == len(Priority) and all(p.isdigit() for p in parts):
        return spoke_id, start, tuple(int(p) for p in parts)
    return spoke_id, start, None


async def queue_card(
    turn: Turn, spoke_id: str, start: int, offsets: tuple[int, ...] | None = None
) -> Card:
    """The person's claims, then the spoke's unclaimed mentions by time left.

    Every open mention is reachable however long the queue: each priority's
    open mentions are read in arrival order (so, within a priority, by time
    left) and merged a page at a time, the button carrying where each
    priority's list has got to.
    """
    settings = turn.settings
    now = turn.now()
    mine = [
        m
        for m in (
            from_record(r) for r in await turn.store.find(KIND, f"owner:{turn.actor.person_id}")
        )
        if m.state is MentionState.CLAIMED
    ]
    mine.sort(key=lambda m: sla_left(m, settings, now))
    waiting = sum([await turn.store.count_tagged(KIND, _open_tag(spoke_id, p)) for p in Priority])
    if offsets is None:
        offsets = await _offsets_at(turn, spoke_id, start)
    page, after = await _page(turn, spoke_id, offsets)
    spoke_name = settings.spoke(spoke_id).name
    rows = [_row(turn, settings, m, now, claim=False) for m in mine] if start == 0 else []
    rows += [_row(turn, settings, m, now, claim=True) for m in page]
    blocks = []
    if start == 0:
        blocks.append(
            TextBlock(
                turn.render("triage/queue.txt", mine=len(mine), spoke=spoke_name, waiting=waiting)
            )
        )
    buttons: tuple[Button, ...] = ()
    if start + PAGE < waiting and len(page) == PAGE:
        more = f"{spoke_id}|{start + PAGE}|{','.join(str(o) for o in after)}"
        buttons = (Button("Show more", "triage.queue", more),)
    return Card(
        title=turn.render("triage/queue_title.txt", spoke=spoke_name),
        blocks=tuple(blocks),
        rows=tuple(rows),
        buttons=buttons,
        context=turn.render(
            "triage/queue_context.txt", shown=len(page), start=start, total=waiting
        ),
    )


def _open_tag(spoke_id: str, priority: Priority) -> str:
    return f"queue:{spoke_id}:open:{priority.value}"


async def _page(
    turn: Turn, spoke_id: str, offsets: tuple[int, ...]
) -> tuple[list[Mention], tuple[int, ...]]:
    """The next ``PAGE`` open mentions by time left, and the offsets after them."""
    settings = turn.settings
    now = turn.now()
    candidates: list[tuple[int, Mention]] = []
    for index, priority in enumerate(Priority):
        found = await turn.store.find(
            KIND, _open_tag(spoke_id, priority), limit=PAGE, offset=offsets[index]
        )
        candidates += [(index, from_record(r)) for r in found]
    # The least time left comes first: that is the one to take.
    candidates.sort(key=lambda c: (sla_left(c[1], settings, now), c[1].received_at))
    page = candidates[:PAGE]
    after = list(offsets)
    for index, _ in page:
        after[index] += 1
    return [m for _, m in page], tuple(after)


async def _offsets_at(turn: Turn, spoke_id: str, start: int) -> tuple[int, ...]:
    """Where each priority's list stands after ``start`` rows (old buttons)."""
    offsets = tuple(0 for _ in Priority)
    for _ in range(start // PAGE):
        page, offsets = await _page(turn, spoke_id, offsets)
        if not page:
            break
    return offsets


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
