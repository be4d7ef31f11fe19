"""``/crisis raise WHAT IS HAPPENING``: anyone may alert the crisis leads.

The raise is a record (kind ``crisis_raise``) with a card in the hub: the
words quoted literally, **Declare** (the declare form, the summary filled in)
and **Dismiss**. Whoever decides first wins (compare-and-set); the raiser is
told by DM either way, and the card shows who decided.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from bot.core.cards import Badge, Button, ButtonStyle, Card, TextBlock, Tone
from bot.core.errors import InvalidInput, NotFound
from bot.core.events import Action
from bot.core.permissions import Permission
from bot.core.storage import Record
from bot.core.text import single_line
from bot.core.turn import INTERACTIVE, Turn
from handlers.crisis.cards import person_name
from handlers.crisis.declare import declare_form
from handlers.crisis.flow import require, router

KIND = "crisis_raise"
RAISE_CONTEXT = "raise:"  # a declare form opened from a raise carries its key
MAX_RAISE = 1000
DECIDING = "decide whether a raised situation is a crisis"


def raise_card(turn: Turn, record: Record) -> Card:
    data = record.data
    state = str(data["state"])
    by = person_name(turn.settings, str(data["by"]))
    badges = [Badge("Raised", Tone.WARNING)]
    buttons: tuple[Button, ...] = ()
    if state == "open":
        value = f"{record.key}|{record.version}"
        buttons = (
            Button("Declare", "crisis.raise.declare", value, ButtonStyle.PRIMARY),
            Button("Dismiss", "crisis.raise.dismiss", value),
        )
    else:
        decider = person_name(turn.settings, str(data.get("decided_by")))
        words = (
            f"Declared as {data.get('incident')} by {decider}"
            if state == "declared"
            else f"Dismissed by {decider}"
        )
        badges = [Badge(words, Tone.GOOD if state == "declared" else Tone.NEUTRAL)]
    return Card(
        title=turn.render("crisis/raise_title.txt", by=by),
        badges=tuple(badges),
        blocks=(
            TextBlock(turn.render("crisis/raise_intro.txt", by=by, open=state == "open")),
            TextBlock(str(data["text"]), quote=True),
        ),
        buttons=buttons,
        at=datetime.fromisoformat(str(data["at"])),
        card_key=f"crisis-raise:{record.key}",
    )


async def raise_situation(turn: Turn, text: str) -> None:
    words = text.strip()
    if not words:
        raise InvalidInput("text", "say what is happening, e.g. /crisis raise AcmePay is down")
    if len(words) > MAX_RAISE:
        raise InvalidInput("text", f"at most {MAX_RAISE} characters")
    record = Record(
        KIND,
        f"R-{uuid.uuid4().hex[:10]}",
        {
            "text": words,
            "by": turn.actor.person_id,
            "at": turn.now().isoformat(),
            "state": "open",
        },
        tags=frozenset({"state:open"}),
    )
    turn.post(
        turn.settings.hub.id, raise_card(turn, replace(record, version=1)), priority=INTERACTIVE
    )
    turn.audit("crisis.raised", f"{KIND}:{record.key}", text=words)
    await turn.insert(record)
    await turn.say(turn.render("crisis/raised.txt", hub=turn.settings.hub.name), tone=Tone.GOOD)


async def _load(turn: Turn, key: str) -> Record:
    record = await turn.store.get(KIND, key)
    if record is None:
        raise NotFound(f"There is no raised situation {single_line(key, 40)}.")
    return record


@router.action("crisis.raise.declare", doing=DECIDING)
async def on_declare_raised(turn: Turn, action: Action) -> None:
    require(turn, Permission.DECLARE_CRISIS, DECIDING)
    key = action.value.partition("|")[0]
    record = await _load(turn, key)
    if record.data["state"] != "open":
        await _already(turn, record)
        return
    form = declare_form(turn, None)
    summary = single_line(str(record.data["text"]), 300)
    inputs = tuple(replace(i, initial=summary) if i.id == "summary" else i for i in form.inputs)
    await turn.open_form(replace(form, inputs=inputs, context=f"{RAISE_CONTEXT}{key}"))


@router.action("crisis.raise.dismiss", doing=DECIDING)
async def on_dismiss(turn: Turn, action: Action) -> None:
    require(turn, Permission.DECLARE_CRISIS, DECIDING)
    key = action.value.partition("|")[0]
    if await decide(turn, key, "dismissed"):
        await turn.say(
            turn.render("crisis/raise_decided.txt", state="dismissed", already=False),
            tone=Tone.GOOD,
        )


async def decide(turn: Turn, key: str, state: str, incident: str | None = None) -> bool:
    """Close the raise as ``declared`` (with the incident) or ``dismissed``;
    False when someone decided first (the actor is told)."""
    record = await _load(turn, key)
    if record.data["state"] != "open":
        await _already(turn, record)
        return False
    data = {**record.data, "state": state, "decided_by": turn.actor.person_id, "incident": incident}
    decided = Record(KIND, key, data, record.version + 1, frozenset({f"state:{state}"}))
    turn.update(raise_card(turn, decided))
    raiser = str(record.data["by"])
    if raiser != turn.actor.person_id:
        turn.dm(
            raiser,
            Card(
                title="",
                blocks=(
                    TextBlock(
                        turn.render(
                            "crisis/raise_outcome.txt",
                            state=state,
                            incident=incident,
                            by=turn.actor.name,
                        )
                    ),
                ),
            ),
        )
    turn.audit(f"crisis.raise_{state}", f"{KIND}:{key}", incident=incident)
    written = await turn.replace(Record(KIND, key, data, tags=decided.tags), record.version)
    if not written.ok:
        await _already(turn, await _load(turn, key))
    return written.ok


async def _already(turn: Turn, record: Record) -> None:
    await turn.say(
        turn.render(
            "crisis/raise_decided.txt",
            state=record.data["state"],
            already=True,
            incident=record.data.get("incident"),
            by=person_name(turn.settings, record.data.get("decided_by")),
        ),
        tone=Tone.ATTENTION,
    )
