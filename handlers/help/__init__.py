"""Help: what the person may do here, by their roles."""

from __future__ import annotations

from bot.core.cards import Card, TextBlock
from bot.core.events import Message
from bot.core.model import Role
from bot.core.router import Router
from bot.core.turn import Turn

router = Router("help")


@router.message(r"^(help|\?|usage|hi|hello|what can you do\??)?$")
async def on_help(turn: Turn, message: Message) -> None:
    await send_usage(turn)


async def send_usage(turn: Turn) -> None:
    actor = turn.actor
    roles = sorted(r.value.replace("_", " ") for r in actor.roles if r is not Role.EMPLOYEE)
    text = turn.render(
        "common/help.txt",
        name=actor.name,
        roles=", ".join(roles),
        lines=[
            turn.render("common/help_line.txt", capability=capability)
            for capability in capabilities(turn)
        ],
    )
    await turn.reply(Card(title="Playcaller", blocks=(TextBlock(text),)), ephemeral=True)


def capabilities(turn: Turn) -> list[str]:
    """Capability ids the actor has, in the order the help lists them."""
    actor = turn.actor
    found = []
    if actor.has(Role.RESPONDER, Role.COACH):
        found += ["triage_queue", "triage_buttons"]
    if actor.has(Role.COACH):
        found.append("coach_override")
    found += ["ask", "help"]
    if actor.has(Role.COACH):
        found.append("ask_report")
    return found
