"""Cards and forms for approvals: structure here, words from templates.
(The author's publishing cards are in ``publishing_cards``; the button
values and card keys in ``keys``, both re-exported here.)"""

from __future__ import annotations

from datetime import datetime

from bot.core.accounts import Account
from bot.core.cards import (
    Badge,
    BlockStyle,
    Button,
    ButtonStyle,
    Card,
    Field,
    Form,
    Input,
    InputKind,
    Row,
    TextBlock,
    Tone,
    link,
)
from bot.core.model import Mention
from bot.core.ports import Templates
from bot.core.settings import Settings
from bot.core.text import format_duration, neutralize, safe_url
from handlers.approvals.diff import word_diff
from handlers.approvals.keys import (
    QUOTE_LIMIT,
    TEXT_LIMIT,
    button_value,
    card_key,
    parse_button_value,
    publishing_key,
    send_key,
)
from handlers.approvals.publishing_cards import (
    publishing_buttons,
    publishing_card,
    send_card,
    sent_form,
    too_late_note,
)
from handlers.approvals.records import Draft, DraftState
from handlers.triage.cards import local_time, names, network_name, person_name


def account_line(account: Account) -> str:
    return f"{account.handle} on {network_name(account.network.value)}"


def state_badges(draft: Draft, settings: Settings, now: datetime) -> tuple[Badge, ...]:
    """What the draft waits for, or who decided it and when."""
    version = Badge(f"Version {draft.current.number}", Tone.NEUTRAL)
    last = draft.history[-1] if draft.history else None
    who = person_name(settings, last.by) if last else ""
    at = local_time(settings, last.at) if last else ""
    if draft.state is DraftState.PENDING:
        step = draft.step
        assert step is not None
        badges = [Badge(f"Waiting: {step.name}", Tone.ACCENT), version]
        if step.due_at is not None:
            left = step.due_at - now
            if left.total_seconds() > 0:
                badges.append(Badge(f"{format_duration(left)} left", Tone.NEUTRAL))
            else:
                badges.append(Badge("Overdue", Tone.ATTENTION))
        if step.backups:
            badges.append(Badge(f"Escalated to {names(settings, step.backups)}", Tone.ATTENTION))
        return tuple(badges)
    words = {
        DraftState.EDITING: ("Not submitted", Tone.WARNING),
        DraftState.CHANGES: (f"Changes requested by {who} {at}", Tone.WARNING),
        DraftState.REJECTED: (f"Rejected by {who} {at}", Tone.ATTENTION),
        DraftState.WITHDRAWN: (f"Withdrawn by {who} {at}", Tone.NEUTRAL),
        DraftState.MISSED: ("Not published: approvals came too late", Tone.ATTENTION),
        DraftState.FAILED: ("Publishing failed", Tone.ATTENTION),
        DraftState.CANCELLED: (f"Cancelled by {who} {at}", Tone.NEUTRAL),
    }
    if draft.state in (DraftState.APPROVED, DraftState.PUBLISHED):
        approval = draft.last("approved")
        if draft.no_approval_rule:
            text = f"No approval needed: rule {draft.no_approval_rule}"
        elif approval is not None:
            text = (
                f"Approved by {person_name(settings, approval.by)} "
                f"{local_time(settings, approval.at)}"
            )
        else:
            text = "Approved"
        badges = [Badge(text, Tone.GOOD), version]
        if draft.state is DraftState.PUBLISHED:
            badges.append(Badge("Published", Tone.GOOD))
        elif settings.publish_webhook and not (draft.publish_at and draft.publish_at > now):
            badges.append(Badge("Publishing", Tone.ACCENT))
        return tuple(badges)
    text, tone = words[draft.state]
    return (Badge(text, tone), version)


def approval_card(
    draft: Draft,
    account: Account,
    mention: Mention | None,
    settings: Settings,
    templates: Templates,
    now: datetime,
) -> Card:
    """The card the approvers get; updated in place for all of them."""
    blocks: list[TextBlock] = []
    if mention is not None:
        blocks.append(TextBlock(f"@{mention.author.handle} wrote:", style=BlockStyle.SUBTLE))
        blocks.append(TextBlock(neutralize(mention.text, QUOTE_LIMIT) or "(no text)", quote=True))
    blocks.append(
        TextBlock(
            templates.render(
                "approvals/draft_heading.txt",
                author=person_name(settings, draft.current.author),
                version=draft.current.number,
                reply=mention is not None,
            ),
            style=BlockStyle.SUBTLE,
        )
    )
    blocks.append(TextBlock(neutralize(draft.text, QUOTE_LIMIT), quote=True))
    previous = draft.previous
    if previous is not None:
        changes = word_diff(previous.text, draft.text) or "no change to the text"
        blocks.append(
            TextBlock(f"Changed from version {previous.number}: {changes}", style=BlockStyle.SUBTLE)
        )
    for warning in draft.warnings:
        blocks.append(TextBlock(warning, tone=Tone.WARNING))
    if draft.legal_reasons and draft.state is DraftState.PENDING:
        blocks.append(
            TextBlock(
                templates.render("approvals/legal_step.txt", reasons=list(draft.legal_reasons)),
                tone=Tone.WARNING,
            )
        )
    note = draft.last("changes_requested", "rejected", "edited")
    if note is not None and note.note and draft.state in (DraftState.CHANGES, DraftState.REJECTED):
        blocks.append(
            TextBlock(f"{person_name(settings, note.by)}: {note.note}", tone=Tone.ATTENTION)
        )
    if draft.state is DraftState.FAILED and draft.failure:
        blocks.append(
            TextBlock(f"The publishing system said: {draft.failure}", tone=Tone.ATTENTION)
        )
    if (late := too_late_note(draft, settings)) is not None:
        blocks.append(late)
    fields = [Field("Account", account_line(account))]
    step = draft.step
    if step is not None:
        fields.append(Field(step.name, names(settings, step.approvers)))
    if draft.publish_at is not None:
        fields.append(Field("Publish at", draft.publish_at.strftime("%Y-%m-%d %H:%M UTC")))
    value = button_value(draft)
    buttons: tuple[Button, ...] = ()
    overflow: tuple[Button, ...] = ()
    if draft.state is DraftState.PENDING:
        # Two primary buttons keep their words at phone width; the rarer
        # decisions go under More.
        buttons = (
            Button("Approve", "approvals.approve", value, ButtonStyle.PRIMARY),
            Button("Request changes", "approvals.changes", value),
        )
        overflow = (
            Button("Edit and approve", "approvals.edit", value),
            Button("Reject", "approvals.reject", value, ButtonStyle.DANGER),
        )
    elif draft.state is DraftState.PUBLISHED and (url := safe_url(draft.published_url)):
        buttons = (link("Open reply" if mention else "Open post", url),)
    elif settings.publish_webhook:
        buttons = publishing_buttons(draft)
    details = [
        Field("Draft", draft.id),
        Field("Steps", " → ".join(s.name for s in draft.steps) or "none"),
    ]
    if draft.no_approval_rule:
        details.append(Field("Rule", draft.no_approval_rule))
    return Card(
        title=templates.render(
            "approvals/title.txt",
            reply=mention is not None,
            handle=mention.author.handle if mention else "",
            account=account_line(account),
        ),
        badges=state_badges(draft, settings, now),
        blocks=tuple(blocks),
        fields=tuple(fields),
        buttons=buttons,
        overflow=overflow,
        details=tuple(details),
        context=templates.render(
            "approvals/context.txt",
            spoke=settings.spoke(draft.spoke).name if settings.has_spoke(draft.spoke) else "",
            ago=now - draft.current.at,
        ),
        at=draft.current.at,
        card_key=card_key(draft),
    )


def draft_form(
    *, context: str, title: str, intro: str, initial: str = "", accounts: tuple[Account, ...] = ()
) -> Form:
    """The draft's text (field ``text``); for a new post also the account and time."""
    inputs = [
        Input(
            "text",
            "Text",
            InputKind.MULTILINE,
            required=True,
            initial=initial,
            max_length=TEXT_LIMIT,
        )
    ]
    if accounts:
        inputs.append(
            Input(
                "publish_at",
                "Publish at (UTC, YYYY-MM-DD HH:MM)",
                placeholder="2026-03-02 15:00",
                max_length=40,
            )
        )
    return Form(
        form_id="approvals.draft",
        title=title,
        intro=intro,
        inputs=tuple(inputs),
        submit_label="Submit for approval",
        context=context,
    )


def note_form(form_id: str, title: str, label: str, value: str, submit: str) -> Form:
    return Form(
        form_id=form_id,
        title=title,
        inputs=(Input("note", label, InputKind.MULTILINE, required=True, max_length=1000),),
        submit_label=submit,
        context=value,
        return_to=f"draft:{parse_button_value(value)[0]}",
    )


def problems_card(title: str, intro: str, problems: list[str], draft: Draft) -> Card:
    """Blocking lint findings, shown only to the author, with a way back to the text."""
    return Card(
        title=title,
        badges=(Badge("Not submitted", Tone.ATTENTION),),
        blocks=(
            TextBlock(intro),
            *(TextBlock(p, tone=Tone.ATTENTION) for p in problems),
            TextBlock(neutralize(draft.text, QUOTE_LIMIT), quote=True),
        ),
        buttons=(
            Button("Edit draft", "approvals.revise", button_value(draft), ButtonStyle.PRIMARY),
            Button("Withdraw", "approvals.withdraw", button_value(draft)),
        ),
    )


def findings_card(title: str, intro: str, problems: list[str]) -> Card:
    """Blocking findings in an approver's edit, shown only to them (nothing saved)."""
    return Card(
        title=title,
        badges=(Badge("Not saved", Tone.ATTENTION),),
        blocks=(TextBlock(intro), *(TextBlock(p, tone=Tone.ATTENTION) for p in problems)),
    )


def author_card(title: str, text: str, draft: Draft, *, tone: Tone, revise: bool = False) -> Card:
    """A note to the author about their draft (changes requested, rejected, ...)."""
    buttons: tuple[Button, ...] = ()
    if revise:
        buttons = (
            Button("Edit draft", "approvals.revise", button_value(draft), ButtonStyle.PRIMARY),
            Button("Withdraw", "approvals.withdraw", button_value(draft)),
        )
    return Card(
        title=title,
        blocks=(
            TextBlock(text, tone=tone),
            TextBlock(neutralize(draft.text, QUOTE_LIMIT), quote=True),
        ),
        buttons=buttons,
    )


def list_row(draft: Draft, text: str, *, open_it: bool, withdraw: bool = False) -> Row:
    """One draft in /approvals: Open its approval card, or (the author's own,
    still undecided) Withdraw it."""
    button = Button("Open", "draft.refresh", card_key(draft)) if open_it else None
    if withdraw:
        button = Button("Withdraw", "approvals.withdraw", button_value(draft))
    return Row(text, snippet=neutralize(draft.text, 80), button=button)


__all__ = [
    "QUOTE_LIMIT",
    "TEXT_LIMIT",
    "button_value",
    "card_key",
    "parse_button_value",
    "publishing_card",
    "publishing_key",
    "send_card",
    "send_key",
    "sent_form",
]
