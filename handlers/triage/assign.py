"""Assign: a coach hands a mention to a responder of its spoke."""

from __future__ import annotations

from bot.core.cards import Card, Choice, Form, Input, InputKind, TextBlock, Tone
from bot.core.errors import InvalidInput
from bot.core.events import Action, FormSubmitted
from bot.core.model import Mention, MentionState, Role
from bot.core.permissions import Permission
from bot.core.settings import Settings
from bot.core.turn import INTERACTIVE, Turn
from handlers.triage import rules
from handlers.triage.cards import (
    button_value,
    card_key,
    mention_card,
    parse_button_value,
    person_name,
)
from handlers.triage.routes import load_mention, refuse, router, subject, transition
from handlers.triage.rules import Refusal

FORM = "triage.assign"


def responders(settings: Settings, spoke_id: str) -> list[tuple[str, str]]:
    """(person id, name) of the spoke's responders, by name."""
    found = [
        (p.id, p.name)
        for p in settings.people.values()
        if Role.RESPONDER in p.roles and spoke_id in p.spokes
    ]
    return sorted(found, key=lambda pair: pair[1])


@router.action("triage.assign", permission=Permission.OVERRIDE, doing="assign mentions")
async def on_assign_clicked(turn: Turn, action: Action) -> None:
    key, seen = parse_button_value(action.value)
    mention = await load_mention(turn, key)
    if mention.state is MentionState.RESOLVED:
        await refuse(turn, Refusal("already_resolved", mention), seen)
        return
    people = responders(turn.settings, mention.enrichment.spoke)
    if not people:
        raise InvalidInput(
            "person",
            turn.render("triage/assign_nobody.txt", spoke=_spoke(turn.settings, mention)),
        )
    await turn.open_form(
        Form(
            form_id=FORM,
            title="Assign mention",
            intro=turn.render(
                "triage/assign_form.txt",
                handle=mention.author.handle,
                spoke=_spoke(turn.settings, mention),
            ),
            inputs=(
                Input(
                    "person",
                    "Responder",
                    InputKind.CHOICE,
                    required=True,
                    choices=tuple(Choice(pid, name) for pid, name in people),
                ),
            ),
            submit_label="Assign",
            context=button_value(mention),
            return_to=card_key(mention),
        )
    )


@router.form(FORM, permission=Permission.OVERRIDE, doing="assign mentions")
async def on_assign(turn: Turn, form: FormSubmitted) -> None:
    key, seen = parse_button_value(form.context)
    chosen = form.values.get("person", "").strip()
    mention = await load_mention(turn, key)
    allowed = dict(responders(turn.settings, mention.enrichment.spoke))
    if chosen not in allowed:
        raise InvalidInput("person", "choose a responder of the mention's spoke")

    def consequences(turn: Turn, before: Mention, after: Mention) -> None:
        turn.cancel(*rules.claim_timer_keys(after))
        for timer in rules.claim_timers(after, turn.settings):
            turn.schedule(timer)
        turn.audit("mention.assign", subject(after), to=chosen, previous_owner=before.owner)
        card = mention_card(after, turn.settings, turn.templates, turn.now())
        text = turn.render("triage/assigned.txt", by=turn.actor.name, handle=after.author.handle)
        turn.dm(
            chosen,
            Card(
                title=turn.render("triage/assigned_title.txt"),
                badges=card.badges,
                blocks=(TextBlock(text), card.blocks[0]),
                fields=card.fields,
                buttons=card.buttons,
                context=card.context,
                at=card.at,
            ),
            priority=INTERACTIVE,
        )

    assigned = await transition(
        turn,
        key,
        seen,
        lambda m: rules.assign(m, chosen, turn.now()),
        consequences,
    )
    if assigned:
        await turn.say(
            turn.render(
                "triage/done.txt",
                what="assigned",
                handle=assigned.author.handle,
                owner=person_name(turn.settings, chosen),
            ),
            tone=Tone.GOOD,
        )


def _spoke(settings: Settings, mention: Mention) -> str:
    spoke = mention.enrichment.spoke
    return settings.spoke(spoke).name if settings.has_spoke(spoke) else spoke
