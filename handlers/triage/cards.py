"""Cards for triage: structure here, words from templates."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.cards import Badge, Button, ButtonStyle, Card, Field, TextBlock, Tone, link
from bot.core.model import Mention, MentionState, Priority, ReplyState
from bot.core.ports import Templates
from bot.core.settings import Settings
from bot.core.text import format_count, format_duration, neutralize, safe_url, single_line
from handlers.triage.rules import sla_deadlines, sla_left

NETWORK_NAMES = {
    "x": "X",
    "twitter": "X",
    "facebook": "Facebook",
    "instagram": "Instagram",
    "linkedin": "LinkedIn",
    "reddit": "Reddit",
    "youtube": "YouTube",
    "bluesky": "Bluesky",
    "mastodon": "Mastodon",
    "rss": "RSS/Atom",
    "tiktok": "TikTok",
    "news": "News",
    "web": "Web",
}


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


# The quoted post is clipped to what a person reads at a glance; "Open post"
# shows the rest on the network itself.
POST_LIMIT = 500
PRIORITY_TONES = {
    Priority.URGENT: Tone.ATTENTION,
    Priority.HIGH: Tone.WARNING,
    Priority.NORMAL: Tone.ACCENT,
    Priority.LOW: Tone.NEUTRAL,
}


def mention_badges(mention: Mention, settings: Settings, now: datetime) -> tuple[Badge, ...]:
    """Priority, the crisis it arrived during, time left (or breached, or
    met), and who holds it."""
    priority = mention.enrichment.priority
    badges = [Badge(priority.value.capitalize(), PRIORITY_TONES[priority])]
    if mention.crisis:
        badges.append(Badge(f"Crisis {mention.crisis}", Tone.ATTENTION))
    warn_at, breach_at = sla_deadlines(mention, settings)
    if mention.state is MentionState.RESOLVED:
        assert mention.resolved_at is not None
        took = mention.resolved_at - mention.received_at
        if mention.resolved_at <= breach_at:
            badges.append(Badge(f"Resolved in {format_duration(took)}", Tone.GOOD))
        else:
            badges.append(Badge(f"Resolved late, after {format_duration(took)}", Tone.WARNING))
        return tuple(badges)
    left = breach_at - now
    if left.total_seconds() <= 0:
        late = -left
        ago = "just now" if late.total_seconds() < 60 else f"{format_duration(late)} ago"
        badges.append(Badge(f"Breached {ago}", Tone.ATTENTION))
    else:
        tone = Tone.WARNING if now >= warn_at else Tone.NEUTRAL
        badges.append(Badge(f"{format_duration(left)} left", tone))
    if mention.state is MentionState.CLAIMED:
        badges.append(Badge(f"Claimed by {person_name(settings, mention.owner)}", Tone.ACCENT))
    else:
        badges.append(Badge("Unclaimed", Tone.NEUTRAL))
    if mention.escalation is not None:
        badges.append(Badge("Escalated", Tone.ATTENTION))
    return tuple(badges)


def author_line(mention: Mention) -> str:
    author = mention.author
    who = f"{author.name} (@{author.handle})" if author.name else f"@{author.handle}"
    if author.followers is None:
        return who
    return f"{who}, {format_count(author.followers)} followers"


def mention_card(mention: Mention, settings: Settings, templates: Templates, now: datetime) -> Card:
    """The card a spoke channel sees; updated in place on every change."""
    e = mention.enrichment
    sentiment = templates.render(
        "triage/sentiment.txt",
        label=e.sentiment.label,
        complaint=e.sentiment.complaint,
        urgent=e.sentiment.urgent,
    )
    fields = [Field("Author", author_line(mention)), Field("Sentiment", sentiment)]
    if e.risks:
        fields.append(Field("Risk", ", ".join(e.risks)))
    if mention.state is MentionState.RESOLVED:
        fields.append(
            Field(
                "Outcome",
                templates.render(
                    "triage/state.txt",
                    state=mention.state.value,
                    owner=person_name(settings, mention.owner),
                    resolver=person_name(settings, mention.resolved_by),
                    outcome=mention.outcome.label if mention.outcome else "",
                    note=single_line(mention.note, 200) if mention.note else "",
                ),
            )
        )
    blocks = [TextBlock(neutralize(mention.text, POST_LIMIT) or "(no text)", quote=True)]
    if mention.reply is not None:
        blocks.append(reply_block(mention.reply, settings, templates))
    if mention.escalation is not None and mention.state is not MentionState.RESOLVED:
        blocks.append(
            TextBlock(
                templates.render(
                    "triage/escalation.txt",
                    by=mention.escalation.by,
                    by_name=person_name(settings, mention.escalation.by),
                    coaches=names(settings, mention.escalation.to),
                    reason=mention.escalation.reason,
                ),
                tone=Tone.ATTENTION,
            )
        )
    url = safe_url(mention.url)
    details = [
        Field("Network", network_name(mention.network)),
        Field("Post id", mention.key),
        Field("Routed by", f"rule {e.rule}" if e.rule else "default route"),
        # VADER's own score: a complaint can score above zero and still be
        # labelled a complaint, and the name says which number this is.
        Field("VADER score", f"{e.sentiment.compound:+.2f}"),
        Field("Received", mention.received_at.strftime("%Y-%m-%d %H:%M UTC")),
    ]
    if e.brands or e.competitors:
        details.append(Field("Names", ", ".join((*e.brands, *e.competitors))))
    if mention.url and not url:
        details.append(Field("Link", "not a plain web link, withheld"))
    if mention.escalation is not None and mention.state is MentionState.RESOLVED:
        details.append(
            Field(
                "Escalated to",
                names(settings, mention.escalation.to) + ": " + mention.escalation.reason,
            )
        )
    primary, overflow = mention_actions(mention, url)
    return Card(
        title=templates.render(
            "triage/title.txt",
            network=network_name(mention.network),
            handle=mention.author.handle,
            verified=mention.author.verified,
        ),
        badges=mention_badges(mention, settings, now),
        blocks=tuple(blocks),
        fields=tuple(fields),
        buttons=primary,
        overflow=overflow,
        details=tuple(details),
        context=templates.render(
            "triage/context.txt",
            spoke=settings.spoke(e.spoke).name if settings.has_spoke(e.spoke) else e.spoke,
            ago=now - mention.received_at,
        ),
        at=mention.received_at,
        card_key=card_key(mention),
    )


def first_name(settings: Settings, person_id: str | None) -> str:
    return person_name(settings, person_id).split(" ")[0]


def local_time(settings: Settings, at: datetime | None) -> str:
    """``14:02`` in the config's time zone (cards read at a glance)."""
    if at is None:
        return ""
    try:
        zone = ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return at.astimezone(zone).strftime("%H:%M")


def reply_block(reply: ReplyState, settings: Settings, templates: Templates) -> TextBlock:
    """The reply's state under the post: waiting, approved, replied."""
    text = templates.render(
        "triage/reply.txt",
        state=reply.state,
        drafter=first_name(settings, reply.drafted_by),
        approvers=", ".join(first_name(settings, p) for p in reply.approved_by),
        rule=reply.rule or "",
        time=local_time(settings, reply.at),
    )
    tone = {"published": Tone.GOOD, "approved": Tone.ACCENT, "failed": Tone.ATTENTION}
    return TextBlock(text, tone=tone.get(reply.state, Tone.NEUTRAL))


# The approvals feature handles this action; triage only shows the button.
DRAFT_REPLY_ACTION = "approvals.draft"


def mention_actions(
    mention: Mention, url: str | None
) -> tuple[tuple[Button, ...], tuple[Button, ...]]:
    """At most three primary buttons; the rest go to the overflow menu."""
    value = button_value(mention)
    open_post = (link("Open post", url),) if url else ()
    reply_url = safe_url(mention.reply.url) if mention.reply else None
    open_reply = (link("Open reply", reply_url),) if reply_url else ()
    if mention.state is MentionState.RESOLVED:
        return (*open_post, *open_reply), ()
    escalate = Button("Escalate to coach", "triage.escalate", value)
    assign = Button("Assign", "triage.assign", value)
    if mention.state is MentionState.OPEN:
        primary = (Button("Claim", "triage.claim", value, ButtonStyle.PRIMARY), *open_post)
        primary += (Button("Resolve", "triage.resolve", value),)
        return primary, (escalate, assign)
    draft = Button("Draft reply", DRAFT_REPLY_ACTION, value, ButtonStyle.PRIMARY)
    primary = (draft, Button("Resolve", "triage.resolve", value), *open_post)
    release = Button("Release", "triage.release", value)
    return primary, (release, escalate, assign)


def notice_card(
    title: str,
    text: str,
    mention: Mention | None = None,
    *,
    claim: bool = False,
    badges: tuple[Badge, ...] = (),
) -> Card:
    """A short message, optionally with a Claim button for ``mention``."""
    buttons: tuple[Button, ...] = ()
    if claim and mention is not None:
        buttons = (Button("Claim", "triage.claim", button_value(mention), ButtonStyle.PRIMARY),)
    return Card(title=title, badges=badges, blocks=(TextBlock(text),), buttons=buttons)


def details_card(card: Card) -> Card:
    """A card's Details view, where a platform cannot open it in place."""
    return Card(title=f"Details: {card.title}", fields=card.details)
