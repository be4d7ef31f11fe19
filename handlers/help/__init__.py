"""Help: what the person may do here, grouped by the role that allows it."""

from __future__ import annotations

from bot.core.cards import Badge, BlockStyle, Card, TextBlock, Tone
from bot.core.events import Message
from bot.core.model import Role
from bot.core.router import Router
from bot.core.turn import Turn

router = Router("help")

# (group, roles that open it (none: everyone), capabilities in the order listed)
GROUPS: tuple[tuple[str, tuple[Role, ...], tuple[str, ...]], ...] = (
    ("triage", (Role.RESPONDER, Role.COACH), ("triage_queue", "triage_buttons")),
    ("coach", (Role.COACH,), ("coach_override", "coach_assign", "ask_report")),
    ("everyone", (), ("ask", "help")),
)


@router.message(r"^(help|\?|usage|hi|hello|what can you do\??)?$")
async def on_help(turn: Turn, message: Message) -> None:
    await send_usage(turn)


async def send_usage(turn: Turn) -> None:
    actor = turn.actor
    roles = sorted(r.value.replace("_", " ") for r in actor.roles if r is not Role.EMPLOYEE)
    blocks = [TextBlock(turn.render("common/help.txt", name=actor.name, roles=", ".join(roles)))]
    for group, capabilities in groups(turn):
        blocks.append(
            TextBlock(turn.render("common/help_group.txt", group=group), style=BlockStyle.HEADING)
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


def groups(turn: Turn) -> list[tuple[str, tuple[str, ...]]]:
    """The groups of capabilities the actor has, in the order the help lists them."""
    return [
        (group, capabilities)
        for group, roles, capabilities in GROUPS
        if not roles or turn.actor.has(*roles)
    ]


def capabilities(turn: Turn) -> list[str]:
    """Capability ids the actor has, in the order the help lists them."""
    return [c for _, found in groups(turn) for c in found]
