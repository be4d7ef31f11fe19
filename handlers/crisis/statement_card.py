"""The incident card's holding statements (each one's state per account,
**Draft statement**) and the publishing pause (a badge, the held posts).
Structure here, words from ``templates/crisis/``."""

from __future__ import annotations

from bot.core.cards import Badge, Button, ButtonStyle, Row, TextBlock, Tone, link
from bot.core.ports import Templates
from bot.core.settings import Settings
from bot.core.text import safe_url
from handlers.crisis.incident import Incident, StatementPost
from handlers.crisis.statement_rules import draftable, latest
from handlers.triage.cards import local_time, person_name

DRAFT_ACTION = "crisis.statement"


def handle(settings: Settings, account_id: str) -> str:
    account = settings.accounts.get(account_id)
    return account.handle if account else account_id


def post_line(post: StatementPost, settings: Settings, templates: Templates) -> str:
    return templates.render(
        "crisis/statement_row.txt",
        account=handle(settings, post.account),
        state=post.state,
        waiting=", ".join(person_name(settings, p) for p in post.waiting_for),
        step=post.step,
        by=person_name(settings, post.by) if post.by else "",
        at=local_time(settings, post.at),
        author=person_name(settings, post.author),
        failure=post.failure,
        manual=not settings.publish_webhook,
    )


def statement_rows(incident: Incident, settings: Settings, templates: Templates) -> list[Row]:
    """Per statement: one row per account it was drafted on (Open post once
    published), and a row with **Draft statement** while accounts are left."""
    rows: list[Row] = []
    for statement in incident.statements:
        for account in incident.accounts:
            post = latest(incident, statement.id, account)
            if post is None:
                continue
            url = safe_url(post.url)
            button = link("Open post", url) if url and post.state == "published" else None
            rows.append(
                Row(
                    templates.render(
                        "crisis/statement_post.txt",
                        id=statement.id,
                        line=post_line(post, settings, templates),
                    ),
                    button=button,
                )
            )
        left = draftable(incident, statement.id)
        if left and incident.open:
            rows.append(
                Row(
                    templates.render(
                        "crisis/statement_undrafted.txt",
                        id=statement.id,
                        accounts=", ".join(handle(settings, a) for a in left),
                        legal=statement.requires_legal,
                    ),
                    button=Button(
                        "Draft statement",
                        DRAFT_ACTION,
                        # (the incident card's button value: id|what|version)
                        f"{incident.id}|{statement.id}|{incident.version}",
                        ButtonStyle.DEFAULT if incident.statement_posts else ButtonStyle.PRIMARY,
                    ),
                )
            )
    return rows


def pause_badge(incident: Incident) -> Badge | None:
    if incident.publishing_paused and incident.open:
        return Badge("Publishing paused", Tone.WARNING)
    return None


def pause_blocks(incident: Incident, settings: Settings, templates: Templates) -> list[TextBlock]:
    """While paused: which accounts, and each held post (account, time, author)."""
    if not (incident.publishing_paused and incident.open) and not incident.held_posts:
        return []
    text = templates.render(
        "crisis/paused.txt",
        paused=incident.publishing_paused and incident.open,
        accounts=", ".join(handle(settings, a) for a in incident.accounts),
        held=[
            {
                "account": handle(settings, h.account),
                "at": local_time(settings, h.publish_at),
                "author": person_name(settings, h.author),
            }
            for h in incident.held_posts
        ],
    )
    return [TextBlock(text, tone=Tone.WARNING)]
