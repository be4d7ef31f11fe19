"""The Slack app manifest the bot needs, built from its routes (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.core.router import Route

BOT_SCOPES = [
    "app_mentions:read",  # app_mention events
    "channels:history",  # find a post whose delivery was ambiguous (message metadata)
    "channels:manage",  # crisis rooms: conversations.create, .invite, .setTopic, .archive
    "channels:read",  # conversations.list: find a room created by an attempt of unknown outcome
    "chat:write",
    "commands",
    "groups:history",
    "groups:read",
    "groups:write",  # private crisis rooms (crisis_rooms.private)
    "im:history",  # message.im events
    "im:write",  # conversations.open for DMs
    "users:read",  # users.info
    "users:read.email",  # users.lookupByEmail and mapping users to people by email
]
BOT_EVENTS = ["app_mention", "message.im"]
LONG_DESCRIPTION = (
    "Playcaller brings social media operations into Slack. Mentions from the social web arrive "
    "in each team's channel as cards a responder claims with one click; response-time reminders "
    "and escalations reach the right coach; replies are drafted in Slack, checked against the "
    "company's policy and approved by a coach with one click; every claim and decision is kept "
    "in an audit log. "
    "Crisis leads declare an incident from a playbook with /crisis: the people it names are "
    "paged into a channel of its own, acknowledgements tracked, escalation automatic, the "
    "checklist on one card. "
    "Anyone can type help in a direct message to see what they may do."
)


def slack_manifest(
    commands: Sequence[Route],
    *,
    request_url: str | None,
    socket_mode: bool,
    name: str = "Playcaller",
) -> dict[str, Any]:
    """A v1 manifest. HTTP mode needs ``request_url`` (…/slack/events); Socket Mode does not."""
    if not socket_mode and not request_url:
        raise ValueError("HTTP mode needs the public URL of /slack/events (--url)")
    slash_commands = []
    for route in commands:
        entry: dict[str, Any] = {
            "command": f"/{route.key}",
            "description": route.doing[:1].upper() + route.doing[1:],
            "should_escape": False,
        }
        if route.usage:
            entry["usage_hint"] = route.usage.partition(" ")[2] or route.usage
        if not socket_mode:
            entry["url"] = request_url
        slash_commands.append(entry)
    settings: dict[str, Any] = {
        "event_subscriptions": {"bot_events": BOT_EVENTS},
        "interactivity": {"is_enabled": True},
        "org_deploy_enabled": True,
        "socket_mode_enabled": socket_mode,
        "token_rotation_enabled": False,
    }
    if not socket_mode:
        settings["event_subscriptions"]["request_url"] = request_url
        settings["interactivity"]["request_url"] = request_url
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": "Social mention triage and guideline answers for your teams.",
            "background_color": "#1d3557",
            "long_description": LONG_DESCRIPTION,
        },
        "features": {
            "app_home": {
                "home_tab_enabled": False,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": slash_commands,
        },
        "oauth_config": {"scopes": {"bot": BOT_SCOPES}},
        "settings": settings,
    }
