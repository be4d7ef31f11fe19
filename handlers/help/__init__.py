"""Help: what the person may do here, read from the permission table and
grouped by the roles that allow it."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.cards import Badge, BlockStyle, Card, TextBlock, Tone
from bot.core.events import Message
from bot.core.model import Role
from bot.core.permissions import Permission, Table, role_names
from bot.core.router import Router
from bot.core.turn import Turn

router = Router("help")
# Role words as a group heading says them ("For coaches").
PLURALS = {"coach": "coaches", "legal": "legal"}


@router.message(
    r"^(help|\?|usage|hi|hello|what can you do\??)?$", permission=Permission.HELP, doing="get help"
)
async def on_help(turn: Turn, message: Message) -> None:
    await send_usage(turn)


async def send_usage(turn: Turn) -> None:
    actor = turn.actor
    roles = sorted(r.value.replace("_", " ") for r in actor.roles if r is not Role.EMPLOYEE)
    blocks = [TextBlock(turn.render("common/help.txt", name=actor.name, roles=", ".join(roles)))]
    for who, capabilities in groups(turn):
        blocks.append(
            TextBlock(
                turn.render("common/help_group.txt", roles=[PLURALS.get(r, r + "s") for r in who]),
                style=BlockStyle.HEADING,
            )
        )
        blocks.append(
            TextBlock(
                "\n".join(
                    "• " + turn.render("common/help_line.txt", capability=c) for c in capabilities
                )
            )
        )
    badges = tuple(Badge(r.capitalize(), Tone.ACCENT) for r in roles) or (
        Badge("Employee", Tone.NEUTRAL),
    )
    await turn.reply(
        Card(title=turn.render("common/help_title.txt"), badges=badges, blocks=tuple(blocks)),
        ephemeral=True,
    )


def groups(turn: Turn) -> list[tuple[tuple[str, ...], list[str]]]:
    """What the actor may do, grouped by the roles that allow it (everyone's
    last), each group in the permission table's order."""
    table = turn.settings.permissions
    found: dict[tuple[str, ...], list[str]] = {}
    for permission in table:
        if turn.actor.may(permission):
            found.setdefault(role_names(table, permission), []).append(str(permission))
    return sorted(found.items(), key=lambda group: not group[0])


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
