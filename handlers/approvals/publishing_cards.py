"""The author's cards about publishing: Mark as sent (manual publishing) and
the card that follows a webhook publication (publishing, published, failed,
cancelled, or a cancel that came too late)."""

from __future__ import annotations

from bot.core.cards import Badge, Button, ButtonStyle, Card, Form, Input, TextBlock, Tone, link
from bot.core.model import Mention
from bot.core.ports import Templates
from bot.core.settings import Settings
from bot.core.text import neutralize, safe_url
from handlers.approvals import rules
from handlers.approvals.keys import (
    QUOTE_LIMIT,
    button_value,
    parse_button_value,
    publishing_key,
    send_key,
)
from handlers.approvals.records import Draft, DraftState
from handlers.triage.cards import local_time, person_name


def publishing_buttons(draft: Draft) -> tuple[Button, ...]:
    """Webhook publishing: stop one on its way, or retry or give up a failed one."""
    value = button_value(draft)
    if draft.state is DraftState.APPROVED:
        return (Button("Cancel publishing", "approvals.cancel", value, ButtonStyle.DANGER),)
    if draft.state is DraftState.FAILED:
        return (
            Button("Retry", "approvals.retry", value, ButtonStyle.PRIMARY),
            Button("Cancel publishing", "approvals.cancel", value),
        )
    return ()


def too_late_note(draft: Draft, settings: Settings) -> TextBlock | None:
    """What the publishing system did with a POST in flight when it was
    cancelled: took it (the cancel came too late), or refused it."""
    if (refused := rules.refused_after_cancel(draft)) is not None:
        return TextBlock(
            f"The publishing system had already received it and refused it "
            f"{local_time(settings, refused.at)}: {refused.note}. Nothing was published.",
            tone=Tone.NEUTRAL,
        )
    cancel = rules.cancelled_too_late(draft)
    published = draft.last("published")
    if cancel is None or published is None:
        return None
    return TextBlock(
        f"Cancel came too late: published at {local_time(settings, published.at)} "
        f"(cancelled by {person_name(settings, cancel.by)} {local_time(settings, cancel.at)})",
        tone=Tone.WARNING,
    )


def publishing_card(
    draft: Draft, mention: Mention | None, settings: Settings, templates: Templates
) -> Card:
    """The author's card about a webhook publication, updated in place as it
    goes: publishing (Cancel publishing), published (Open reply), failed
    (the reason, Retry and Cancel publishing), cancelled."""
    state = draft.state
    late = rules.cancelled_too_late(draft)
    # Who and when the card's sentence is about: the approval while it is on
    # its way, the cancel, or (a cancel too late) the canceller and the publish.
    about = draft.last("cancelled") if state is DraftState.CANCELLED else draft.last("approved")
    when = draft.last("published") if late else about
    text = templates.render(
        "approvals/published.txt",
        state=state.value,
        reason=draft.failure,
        reply=mention is not None,
        handle=mention.author.handle if mention else "",
        rule=draft.no_approval_rule or "",
        by=person_name(settings, who.by) if (who := late or about) else "",
        at=local_time(settings, when.at) if when else "",
        too_late=late is not None,
        refused_at=local_time(settings, refused.at)
        if (refused := rules.refused_after_cancel(draft))
        else "",
    )
    tone = {
        DraftState.FAILED: Tone.ATTENTION,
        DraftState.APPROVED: Tone.ACCENT,
        DraftState.CANCELLED: Tone.NEUTRAL,
    }.get(state, Tone.WARNING if late else Tone.GOOD)
    buttons = publishing_buttons(draft)
    url = safe_url(draft.published_url)
    if state is DraftState.PUBLISHED and url:
        buttons = (link("Open reply" if mention else "Open post", url),)
    return Card(
        title=templates.render("approvals/published_title.txt", state=state.value),
        blocks=(
            TextBlock(text, tone=tone),
            TextBlock(neutralize(draft.text, QUOTE_LIMIT), quote=True),
        ),
        buttons=buttons,
        card_key=publishing_key(draft),
    )


def send_card(title: str, text: str, draft: Draft, *, sent: str = "") -> Card:
    """Manual publishing: the approved text to copy, and **Mark as sent**."""
    buttons: tuple[Button, ...] = ()
    badges: tuple[Badge, ...] = (Badge("Approved", Tone.GOOD),)
    if sent:
        badges = (Badge(sent, Tone.GOOD),)
    else:
        buttons = (
            Button("Mark as sent", "approvals.sent", button_value(draft), ButtonStyle.PRIMARY),
        )
    return Card(
        title=title,
        badges=badges,
        blocks=(TextBlock(text), TextBlock(draft.text, quote=True)),
        buttons=buttons,
        card_key=send_key(draft),
    )


def sent_form(value: str) -> Form:
    return Form(
        form_id="approvals.sent",
        title="Mark as sent",
        intro="Paste the link of the published post, if you have it.",
        inputs=(Input("url", "Link to the post", placeholder="https://", max_length=500),),
        submit_label="Mark as sent",
        context=value,
        return_to=f"draftsend:{parse_button_value(value)[0]}",
    )
