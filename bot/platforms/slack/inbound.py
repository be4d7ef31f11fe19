"""Slack payloads to the neutral parts of events, as pure functions.

Identity (user, team, enterprise) comes only from the verified payload's own
fields, never from a button value or form field.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.core.cards import LINK_ACTION
from bot.platforms.slack.render import form_values, neutral_action_id, overflow_choice


@dataclass(frozen=True)
class Origin:
    """Who sent a payload and from where."""

    user_id: str
    user_name: str
    team_id: str | None
    enterprise_id: str | None
    channel_id: str
    is_direct: bool
    trigger_id: str | None = None


class MalformedPayload(ValueError):
    """A payload lacks a field the bot needs; names the field."""

    def __init__(self, field: str) -> None:
        self.field = field
        super().__init__(f"Slack payload has no {field}")


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _required(value: Any, field: str) -> str:
    text = _str(value)
    if not text:
        raise MalformedPayload(field)
    return text


def _team(body: dict[str, Any]) -> tuple[str | None, str | None]:
    team = body.get("team")
    team_id = team.get("id") if isinstance(team, dict) else body.get("team_id")
    enterprise = body.get("enterprise")
    enterprise_id = (
        enterprise.get("id") if isinstance(enterprise, dict) else body.get("enterprise_id")
    )
    return _str(team_id) or None, _str(enterprise_id) or None


def is_direct_channel(channel_id: str) -> bool:
    """Slack's direct-message channel ids start with D."""
    return channel_id.startswith("D")


def command_origin(body: dict[str, Any]) -> Origin:
    """A slash command's sender (form fields of the command request)."""
    team_id, enterprise_id = _team(body)
    channel = _required(body.get("channel_id"), "channel_id")
    return Origin(
        user_id=_required(body.get("user_id"), "user_id"),
        user_name=_str(body.get("user_name")),
        team_id=team_id,
        enterprise_id=enterprise_id,
        channel_id=channel,
        is_direct=is_direct_channel(channel) or body.get("channel_name") == "directmessage",
        trigger_id=_str(body.get("trigger_id")) or None,
    )


def command_parts(body: dict[str, Any]) -> tuple[str, str]:
    """``(name without slash, text)``."""
    return _required(body.get("command"), "command").lstrip("/"), _str(body.get("text")).strip()


def interaction_origin(body: dict[str, Any], channel_id: str = "") -> Origin:
    """The sender of a block action or view submission."""
    user = body.get("user")
    if not isinstance(user, dict):
        raise MalformedPayload("user")
    team_id, enterprise_id = _team(body)
    if not channel_id:
        channel = body.get("channel")
        container = body.get("container")
        channel_id = _str(channel.get("id") if isinstance(channel, dict) else None) or _str(
            container.get("channel_id") if isinstance(container, dict) else None
        )
    return Origin(
        user_id=_required(user.get("id"), "user.id"),
        user_name=_str(user.get("username") or user.get("name")),
        team_id=team_id or _str(user.get("team_id")) or None,
        enterprise_id=enterprise_id,
        channel_id=channel_id,
        is_direct=is_direct_channel(channel_id),
        trigger_id=_str(body.get("trigger_id")) or None,
    )


@dataclass(frozen=True)
class ActionParts:
    action_id: str
    value: str
    message_ts: str


def is_link_click(body: dict[str, Any]) -> bool:
    """A click on a link button (it opened its URL; Slack still tells the app)."""
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        return False
    return neutral_action_id(_str(actions[0].get("action_id"))) == LINK_ACTION


def action_parts(body: dict[str, Any]) -> ActionParts:
    """The pressed button of a block_actions payload."""
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        raise MalformedPayload("actions")
    action = actions[0]
    container = _dict(body.get("container"))
    message = _dict(body.get("message"))
    action_id = neutral_action_id(_required(action.get("action_id"), "actions[0].action_id"))
    value = _str(action.get("value"))
    if action.get("type") == "overflow":
        chosen = _dict(action.get("selected_option"))
        action_id, value = overflow_choice(
            _required(chosen.get("value"), "actions[0].selected_option.value")
        )
    return ActionParts(
        action_id=action_id,
        value=value,
        message_ts=_str(container.get("message_ts")) or _str(message.get("ts")),
    )


def wrap_form_context(context: str, channel_id: str) -> str:
    """``private_metadata`` carrying the form's own context and where it was opened."""
    return json.dumps({"c": context, "ch": channel_id}, separators=(",", ":"))


@dataclass(frozen=True)
class ViewParts:
    form_id: str
    values: dict[str, str]
    context: str
    channel_id: str


def view_parts(body: dict[str, Any]) -> ViewParts:
    """A view_submission's form id, values and context."""
    view = body.get("view")
    if not isinstance(view, dict):
        raise MalformedPayload("view")
    try:
        wrapped = json.loads(_str(view.get("private_metadata")) or "{}")
    except json.JSONDecodeError as error:
        raise MalformedPayload("view.private_metadata") from error
    if not isinstance(wrapped, dict):
        raise MalformedPayload("view.private_metadata")
    state = _dict(view.get("state"))
    return ViewParts(
        form_id=_required(view.get("callback_id"), "view.callback_id"),
        values=form_values(state),
        context=_str(wrapped.get("c")),
        channel_id=_str(wrapped.get("ch")),
    )


def view_errors(body: dict[str, Any]) -> dict[str, str]:
    """Errors by block id for a view_submission that breaks the modal's own
    definition (a required input empty, a choice it does not offer): checked
    before the ack, so Slack shows each next to its input, privately."""
    view = _dict(body.get("view"))
    values = _dict(_dict(view.get("state")).get("values"))
    errors: dict[str, str] = {}
    for block in view.get("blocks") or []:
        if not isinstance(block, dict) or block.get("type") != "input":
            continue
        block_id = _str(block.get("block_id"))
        label = _str(_dict(block.get("label")).get("text")) or "This"
        element = _dict(block.get("element"))
        entry = _dict(_dict(values.get(block_id)).get(_str(element.get("action_id")) or "value"))
        if element.get("type") == "static_select":
            chosen = _str(_dict(entry.get("selected_option")).get("value"))
            offered = [_str(_dict(o).get("value")) for o in element.get("options") or []]
            if chosen and offered and chosen not in offered:
                errors[block_id] = f"Choose one of {', '.join(offered)}."[:150]
                continue
        else:
            chosen = _str(entry.get("value")).strip()
        if not chosen and not block.get("optional", False):
            errors[block_id] = f"{label} is required."[:150]
    return errors


def event_origin(body: dict[str, Any]) -> Origin:
    """The sender of an Events API event (app_mention, message.im)."""
    event = body.get("event")
    if not isinstance(event, dict):
        raise MalformedPayload("event")
    team_id, enterprise_id = _team(body)
    channel = _required(event.get("channel"), "event.channel")
    return Origin(
        user_id=_required(event.get("user"), "event.user"),
        user_name="",
        team_id=_str(event.get("team")) or team_id,
        enterprise_id=enterprise_id,
        channel_id=channel,
        is_direct=event.get("channel_type") == "im" or is_direct_channel(channel),
    )


_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


def message_text(event: dict[str, Any], bot_user_id: str | None) -> str:
    """The text addressed to the bot, with the bot's own mention removed."""
    text = _str(event.get("text"))
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", "", text)
    else:
        text = _MENTION.sub("", text, count=1)
    return " ".join(text.split())


def event_dedupe_key(body: dict[str, Any]) -> str | None:
    """Retries of one event share its ``event_id``; team-scoped for org installs."""
    event_id = _str(body.get("event_id"))
    if not event_id:
        return None
    return f"event:{_str(body.get('team_id'))}:{event_id}"


def is_user_message(event: dict[str, Any]) -> bool:
    """A person's own new message (not an edit, join, bot post or thread broadcast)."""
    return (
        event.get("type") == "message"
        and not event.get("subtype")
        and not event.get("bot_id")
        and isinstance(event.get("user"), str)
    )
