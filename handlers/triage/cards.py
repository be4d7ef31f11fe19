"""Cards for triage: structure here, words from templates."""

from __future__ import annotations

from datetime import datetime

from bot.core.cards import Button, ButtonStyle, Card, Field, TextBlock
from bot.core.model import Mention, MentionState
from bot.core.ports import Templates
from bot.core.settings import Settings
from bot.core.text import format_count, safe_url, single_line
from handlers.triage.rules import sla_deadlines, sla_left

NETWORK_NAMES = {
    "x": "X",
    "twitter": "X",
    "facebook": "Facebook",
    "instagram": "Instagram",
    "linkedin": "LinkedIn",
    "reddit": "Reddit",
    "youtube": "YouTube",
    "tiktok": "TikTok",
    "news": "News",
    "web": "Web",
}

# The quoted post is the largest part of a card; this keeps every platform's
# per-block limits (Slack sections take 3000 characters) with room to spare.
QUOTE_LIMIT = 2800


def network_name(network: str) -> str:
    return NETWORK_NAMES.get(network, network.capitalize())


def person_name(settings: Settings, person_id: str | None) -> str:
    """A configured person's name; the bot's own name for ``system``."""
    if person_id is None:
        return "nobody"
    if person_id == "system":
        return "Playcaller"
    person = settings.people.get(person_id)
    return person.name if person else person_id


def names(settings: Settings, person_ids: tuple[str, ...]) -> str:
    return ", ".join(person_name(settings, p) for p in person_ids) or "the hub"


def card_key(mention: Mention) -> str:
    return f"mention:{mention.key}"


def button_value(mention: Mention) -> str:
    """What a button carries: the mention and the version the card showed."""
    return f"{mention.key}|{mention.version}"


def parse_button_value(value: str) -> tuple[str, int | None]:
    """Inverse of :func:`button_value`; the version is None if absent or bad."""
    key, _, version = value.rpartition("|")
    if not key:
        return value, None
    return key, int(version) if version.isdigit() else None


def sla_text(mention: Mention, settings: Settings, templates: Templates, now: datetime) -> str:
    _, breach_at = sla_deadlines(mention, settings)
    took = (mention.resolved_at or now) - mention.received_at
    return templates.render(
        "triage/sla.txt",
        state=mention.state.value,
        left=sla_left(mention, settings, now),
        priority=mention.enrichment.priority.value,
        met=mention.resolved_at is not None and mention.resolved_at <= breach_at,
        took=took,
    )


def mention_card(mention: Mention, settings: Settings, templates: Templates, now: datetime) -> Card:
    """The card a spoke channel sees; updated in place on every change."""
    e = mention.enrichment
    author = mention.author
    who = f"{author.name} (@{author.handle})" if author.name else f"@{author.handle}"
    url = safe_url(mention.url)
    fields = [
        Field("Author", who),
        Field("Reach", f"{format_count(author.followers)} followers"),
        Field("Network", network_name(mention.network)),
        Field("Sentiment", f"{e.sentiment.label} ({e.sentiment.compound:+.2f})"),
        Field("Priority", e.priority.value),
        Field("SLA", sla_text(mention, settings, templates, now)),
        Field(
            "State",
            templates.render(
                "triage/state.txt",
                state=mention.state.value,
                owner=person_name(settings, mention.owner),
                resolver=person_name(settings, mention.resolved_by),
                outcome=mention.outcome.label if mention.outcome else "",
                note=single_line(mention.note, 200) if mention.note else "",
            ),
        ),
        Field(
            "Link", url if url else ("not a plain web link, withheld" if mention.url else "none")
        ),
    ]
    if e.risks:
        fields.append(Field("Risks", ", ".join(e.risks)))
    if e.brands or e.competitors:
        fields.append(Field("Mentions", ", ".join((*e.brands, *e.competitors))))
    blocks = [TextBlock(mention.text or "(no text)", quote=True)]
    if mention.escalation is not None:
        blocks.append(
            TextBlock(
                templates.render(
                    "triage/escalation.txt",
                    by=mention.escalation.by,
                    by_name=person_name(settings, mention.escalation.by),
                    coaches=names(settings, mention.escalation.to),
                    reason=mention.escalation.reason,
                )
            )
        )
    return Card(
        title=templates.render(
            "triage/title.txt",
            network=network_name(mention.network),
            handle=author.handle,
            verified=author.verified,
        ),
        blocks=tuple(blocks),
        fields=tuple(fields),
        buttons=mention_buttons(mention),
        context=templates.render(
            "triage/context.txt",
            spoke=settings.spoke(e.spoke).name if settings.has_spoke(e.spoke) else e.spoke,
            rule=e.rule,
            key=mention.key,
            received=mention.received_at.strftime("%Y-%m-%d %H:%M UTC"),
        ),
        card_key=card_key(mention),
    )


def mention_buttons(mention: Mention) -> tuple[Button, ...]:
    value = button_value(mention)
    if mention.state is MentionState.RESOLVED:
        return ()
    first = (
        Button("Claim", "triage.claim", value, ButtonStyle.PRIMARY)
        if mention.state is MentionState.OPEN
        else Button("Release", "triage.release", value)
    )
    return (
        first,
        Button("Resolve", "triage.resolve", value),
        Button("Escalate to coach", "triage.escalate", value, ButtonStyle.DANGER),
    )


def notice_card(
    title: str, text: str, mention: Mention | None = None, *, claim: bool = False
) -> Card:
    """A short message, optionally with a Claim button for ``mention``."""
    buttons: tuple[Button, ...] = ()
    if claim and mention is not None:
        buttons = (Button("Claim", "triage.claim", button_value(mention), ButtonStyle.PRIMARY),)
    return Card(title=title, blocks=(TextBlock(text),), buttons=buttons)
