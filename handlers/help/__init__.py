"""Help: what the person may do here, read from the permission table."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.cards import Card, TextBlock
from bot.core.events import Message
from bot.core.model import Role
from bot.core.permissions import Permission, Table, role_names
from bot.core.router import Router
from bot.core.turn import Turn

router = Router("help")


@router.message(
    r"^(help|\?|usage|hi|hello|what can you do\??)?$", permission=Permission.HELP, doing="get help"
)
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
    """What the actor may do, in the permission table's order."""
    return [str(p) for p in turn.settings.permissions if turn.actor.may(p)]


def permission_table(table: Table, render: Callable[..., str]) -> str:
    """The permission table as Markdown (the README shows this; a test keeps them equal)."""
    rows = ["| who | may |", "|---|---|"]
    for permission in table:
        who = ", ".join(role_names(table, permission)) or "everyone"
        what = render("common/help_line.txt", capability=str(permission))
        rows.append(f"| {who} | {what.replace('|', '/')} |")
    return "\n".join(rows)
