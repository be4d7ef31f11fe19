"""Teams activities (wire-shaped dicts) to the neutral parts of events, as pure functions.

The sender comes from the activity's ``from`` as authenticated by the Bot
Connector's token, never from card data.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from bot.core.cards import Form
from bot.core.events import Action, Event, FormSubmitted
from bot.platforms.teams.render import FORM_VERB, MARK, form_card, form_values


class MalformedActivity(ValueError):
    """An activity lacks a field the bot needs; names the field."""

    def __init__(self, field: str) -> None:
        self.field = field
        super().__init__(f"Teams activity has no {field}")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class Origin:
    """Who sent an activity, and from which conversation."""

    user_id: str
    aad_object_id: str
    user_name: str
    conversation_id: str
    conversation_type: str
    tenant_id: str
    team_id: str
    service_url: str
    activity_id: str
    reply_to_id: str

    @property
    def is_direct(self) -> bool:
        return self.conversation_type == "personal"

    @property
    def channel_key(self) -> str:
        """The channel a spoke is bound to: the conversation id without a thread's
        ``;messageid=`` suffix, so replies in a card's thread count as the channel."""
        return self.conversation_id.split(";messageid=", 1)[0]

    @property
    def thread_id(self) -> str:
        """The id of the thread's root message when typed in a thread, else empty."""
        _, _, root = self.conversation_id.partition(";messageid=")
        return root


def envelope_problem(body: Any) -> str | None:
    """What makes a posted activity unusable before botbuilder reads it, or None."""
    if not isinstance(body, dict):
        return "the activity must be a JSON object"
    for required, kind in (
        ("type", str),
        ("serviceUrl", str),
        ("conversation", dict),
        ("from", dict),
    ):
        if not isinstance(body.get(required), kind) or not body.get(required):
            return f"the activity has no valid {required}"
    for account in ("conversation", "from"):
        if not isinstance(body[account].get("id"), str):
            return f"the activity has no {account}.id"
    return None


def origin(activity: dict[str, Any]) -> Origin:
    sender = _dict(activity.get("from"))
    conversation = _dict(activity.get("conversation"))
    channel_data = _dict(activity.get("channelData"))
    user_id = _str(sender.get("id"))
    if not user_id:
        raise MalformedActivity("from.id")
    conversation_id = _str(conversation.get("id"))
    if not conversation_id:
        raise MalformedActivity("conversation.id")
    service_url = _str(activity.get("serviceUrl"))
    if not service_url:
        raise MalformedActivity("serviceUrl")
    tenant = _str(conversation.get("tenantId")) or _str(_dict(channel_data.get("tenant")).get("id"))
    return Origin(
        user_id=user_id,
        aad_object_id=_str(sender.get("aadObjectId")),
        user_name=_str(sender.get("name")),
        conversation_id=conversation_id,
        conversation_type=_str(conversation.get("conversationType")) or "personal",
        tenant_id=tenant,
        team_id=_str(_dict(channel_data.get("team")).get("id")),
        service_url=service_url,
        activity_id=_str(activity.get("id")),
        reply_to_id=_str(activity.get("replyToId")),
    )


def message_text(activity: dict[str, Any], bot_id: str) -> tuple[str, bool]:
    """(text without the bot's @mention, whether the bot was mentioned)."""
    text = _str(activity.get("text"))
    mentioned = False
    for entity in activity.get("entities") or []:
        if not isinstance(entity, dict) or entity.get("type") != "mention":
            continue
        if _str(_dict(entity.get("mentioned")).get("id")) == bot_id:
            mentioned = True
            tag = _str(entity.get("text"))
            if tag:
                text = text.replace(tag, " ")
    bot_name = _str(_dict(activity.get("recipient")).get("name"))
    if not mentioned and bot_name:
        # Entities can arrive without their details: the bot's own <at> tag still says it.
        tag = f"<at>{bot_name}</at>"
        if tag.lower() in text.lower():
            mentioned = True
            text = re.sub(re.escape(tag), " ", text, count=1, flags=re.IGNORECASE)
    # Teams sends HTML entities and non-breaking spaces in typed text.
    text = text.replace("&nbsp;", " ").replace("\u00a0", " ")
    return " ".join(text.split()), mentioned


@dataclass(frozen=True)
class ButtonPress:
    action_id: str
    value: str


@dataclass(frozen=True)
class FormSubmission:
    form_id: str
    context: str
    values: dict[str, str]


def card_action(data: dict[str, Any]) -> ButtonPress | FormSubmission | None:
    """What a card's action data (Action.Execute ``data`` or Action.Submit ``value``) means."""
    kind = data.get(MARK)
    if kind == "action":
        action_id = _str(data.get("action_id"))
        if not action_id:
            raise MalformedActivity("value.action_id")
        return ButtonPress(action_id, _str(data.get("value")))
    if kind == "form":
        form_id = _str(data.get("form_id"))
        if not form_id:
            raise MalformedActivity("value.form_id")
        return FormSubmission(form_id, _str(data.get("context")), form_values(data))
    return None


def invoke_data(activity: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(verb, data) of an ``adaptiveCard/action`` invoke."""
    action = _dict(_dict(activity.get("value")).get("action"))
    if action.get("type") != "Action.Execute":
        raise MalformedActivity("value.action.type")
    verb = _str(action.get("verb"))
    if not verb:
        raise MalformedActivity("value.action.verb")
    return verb, _dict(action.get("data"))


def is_form_verb(verb: str) -> bool:
    return verb == FORM_VERB


def typed_command(text: str, commands: Collection[str]) -> tuple[str, str] | None:
    """A typed command (``triage care``, ``/triage``, ``link care``) as (name, arguments).

    Teams has no slash commands for bots, so the first word names the command;
    ``link`` is short for ``playcaller link``.
    """
    word, _, rest = text.strip().partition(" ")
    name = word.lstrip("/").lower()
    if name == "link":
        return "playcaller", f"link {rest.strip()}".strip()
    if name in commands:
        return name, rest.strip()
    return None


def card_event(data: dict[str, Any], envelope: dict[str, Any]) -> Event:
    """The neutral event of a card click or a form (``Action.Execute`` or ``Action.Submit``)."""
    meaning = card_action(data)
    if isinstance(meaning, ButtonPress):
        return Action(action_id=meaning.action_id, value=meaning.value, **envelope)
    if isinstance(meaning, FormSubmission):
        return FormSubmitted(
            form_id=meaning.form_id, values=meaning.values, context=meaning.context, **envelope
        )
    raise MalformedActivity("value.pc")


def dedupe_key(sender: Origin) -> str | None:
    if not sender.activity_id:
        return None
    return f"activity:{sender.conversation_id}:{sender.activity_id}"


def form_problems(data: dict[str, Any]) -> dict[str, Any] | None:
    """The form again, with each error next to its input, when a submitted
    form breaks its own definition (a required input empty, a choice not
    offered); None when it is fine or is no form."""
    meaning = card_action(data)
    definition = data.get("form")
    if not isinstance(meaning, FormSubmission) or not isinstance(definition, dict):
        return None
    try:
        form = Form.from_json(definition)
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedActivity("value.form") from error
    if form.form_id != meaning.form_id:
        raise MalformedActivity("value.form.form_id")
    problems = form.problems(meaning.values)
    return form_card(form, meaning.values, problems) if problems else None
