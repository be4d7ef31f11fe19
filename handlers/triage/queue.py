"""/triage: the person's open claims and the spoke's queue, privately."""

from __future__ import annotations

import json
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
    spoke_id, start, cursors = parse_queue_value(action.value)
    if not turn.settings.has_spoke(spoke_id):
        raise InvalidInput("spoke", f"unknown spoke {single_line(spoke_id, 40)!r}")
    await turn.reply(await queue_card(turn, spoke_id, start, cursors), ephemeral=True)


Cursors = tuple[str | None, ...]


def parse_queue_value(value: str) -> tuple[str, int, Cursors | None]:
    """``spoke|start|["key", null, ...]``: the page's first row number and,
    per priority, the last mention of that priority an earlier page showed.

    Buttons posted before the cursors existed carry ``spoke|start`` only."""
    spoke_id, _, rest = value.partition("|")
    start_text, _, cursors_text = rest.partition("|")
    start = int(start_text) if start_text.isdigit() else 0
    try:
        parsed = json.loads(cursors_text) if cursors_text else None
    except ValueError:
        parsed = None
    if (
        isinstance(parsed, list)
        and len(parsed) == len(Priority)
        and all(c is None or isinstance(c, str) for c in parsed)
    ):
        return spoke_id, start, tuple(parsed)
    return spoke_id, start, None


async def queue_card(turn: Turn, spoke_id: str, start: int, cursors: Cursors | None = None) -> Card:
    """The person's claims, then the spoke's unclaimed mentions by time left.

    Every open mention is reachable however long the queue: each priority's
    open mentions are read in arrival order (so, within a priority, by time
    left) and merged a page at a time; the button carries, per priority, the
    last mention shown, so claims made meanwhile neither skip nor repeat any.
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
    if cursors is None:
        # An old button: start over rather than replay pages.
        start, cursors = 0, tuple(None for _ in Priority)
    page, after = await _page(turn, spoke_id, cursors)
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
    if len(page) == PAGE and await _more(turn, spoke_id, after):
        more = f"{spoke_id}|{start + PAGE}|{json.dumps(list(after))}"
        buttons = (Button("Show more", "triage.queue", more),)
    return Card(
        title=turn.render("triage/queue_title.txt", spoke=spoke_name),
        blocks=tuple(blocks),
        rows=tuple(rows),
        buttons=buttons,
        context=turn.render(
            "triage/queue_context.txt",
            shown=len(page),
            start=start,
            total=max(waiting, start + len(page)),
        ),
    )


def _open_tag(spoke_id: str, priority: Priority) -> str:
    return f"queue:{spoke_id}:open:{priority.value}"


async def _page(turn: Turn, spoke_id: str, cursors: Cursors) -> tuple[list[Mention], Cursors]:
    """The next ``PAGE`` open mentions by time left, and the cursors after them."""
    settings = turn.settings
    now = turn.now()
    candidates: list[tuple[int, Mention]] = []
    for index, priority in enumerate(Priority):
        found = await turn.store.find(
            KIND, _open_tag(spoke_id, priority), limit=PAGE, after=cursors[index]
        )
        candidates += [(index, from_record(r)) for r in found]
    # The least time left comes first: that is the one to take.
    candidates.sort(key=lambda c: (sla_left(c[1], settings, now), c[1].received_at))
    page = candidates[:PAGE]
    after = list(cursors)
    for index, mention in page:
        after[index] = mention.key
    return [m for _, m in page], tuple(after)


async def _more(turn: Turn, spoke_id: str, cursors: Cursors) -> bool:
    """Whether any open mention comes after the cursors."""
    for index, priority in enumerate(Priority):
        tag = _open_tag(spoke_id, priority)
        if await turn.store.find(KIND, tag, limit=1, after=cursors[index]):
            return True
    return False


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
