"""Builders for real-shaped inbound Microsoft Teams activities.

Every builder is a pure function returning the JSON dict Teams (through the Bot
Connector) POSTs to a bot's ``/api/messages``: ``channelId`` ``msteams``, the
given ``serviceUrl`` (point it at ``FakeConnector.service_url``), the bot as
``recipient`` (``28:<app id>``), a ``29:`` user as ``from``, a ``conversation``
with ``conversationType``/``tenantId``/``isGroup``, Teams ``channelData`` and a
``clientInfo`` entity. Feed them to botbuilder as ``Activity().deserialize(d)``
or POST them as JSON to the bot's endpoint.

Shapes follow recorded Teams payloads and Microsoft's documentation:

* channel message (thread id ``19:...@thread.tacv2;messageid=<root>``, mention
  entity, ``text/html`` attachment, ``teamsChannelId``/``teamsTeamId``) and the
  ``adaptiveCard/action`` invoke: microsoft/teams.net
  ``core/test/Microsoft.Teams.Bot.Apps.UnitTests/TeamsActivityTests.cs``
  (2025-2026 recordings). Note: *message* activities carry ``team``/``channel``
  **ids only** -- Teams does not send their names there.
* personal message: MicrosoftDocs/msteams-docs
  ``bots/how-to/conversations/conversation-messages.md`` ("Receive a message").
* ``conversationUpdate`` (bot added to a team: ``settings.selectedChannel``,
  ``team{aadGroupId,name,id}``, ``eventType: teamMemberAdded``; one-to-one add)
  and ``installationUpdate``: msteams-docs
  ``bots/how-to/conversations/subscribe-to-conversation-events.md``.

Ids: chat messages get Teams' millisecond-epoch ids (``"1767225600001"``);
events, invokes and card submits get ``"f:<uuid>"`` ids, as Teams uses for
activities that are not stored chat messages. Ids are unique per process.
Timestamps are ISO 8601 UTC with ``Z``; ``localTimestamp`` carries the client's
offset for ``timezone``.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import time
import uuid
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

APP_ID = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"
"""The bot's (fake) Microsoft App ID; the bot's Teams id is ``28:<APP_ID>``."""
BOT_NAME = "Playcaller"
TENANT_ID = "tenant-1"
TEAM_ID = "19:3a1f0c5e9b7d4e2a8c6b0d1e2f3a4b5c@thread.tacv2"
"""A team's id is the id of its General channel."""
TEAM_NAME = "Comms"
AAD_GROUP_ID = "0d4c2b1a-9e8f-4a7b-8c6d-5e4f3a2b1c0d"
CHANNEL_ID = "19:9e8d7c6b5a4f4e3d8c2b1a0f9e8d7c6b@thread.tacv2"
CHANNEL_NAME = "social-triage"
LOCALE = "en-US"
TIMEZONE = "Europe/London"

ConversationType = Literal["personal", "channel", "groupChat"]
InstallAction = Literal["add", "remove", "add-upgrade", "remove-upgrade"]

_message_ids = itertools.count(int(time.time() * 1000))


# ---------------------------------------------------------------------- ids


def new_message_id() -> str:
    """A chat message id as Teams mints them (milliseconds since the epoch), unique here."""
    return str(next(_message_ids))


def new_event_id() -> str:
    """An id for an event/invoke/submit activity (``f:<uuid>``)."""
    return f"f:{uuid.uuid4()}"


def bot_id(app_id: str = APP_ID) -> str:
    return f"28:{app_id}"


def bot_account(app_id: str = APP_ID, name: str = BOT_NAME) -> dict[str, Any]:
    """The bot as Teams addresses it (``recipient`` of inbound activities)."""
    return {"id": bot_id(app_id), "name": name}


def user(name: str, aad_object_id: str, user_id: str | None = None) -> dict[str, Any]:
    """A user's ``from`` account. Without ``user_id``, a stable ``29:`` id is derived
    from the AAD object id (the same user always gets the same id)."""
    if user_id is None:
        digest = hashlib.sha256(aad_object_id.encode()).hexdigest()
        user_id = f"29:1{digest[:43]}"
    return {"id": user_id, "name": name, "aadObjectId": aad_object_id}


def personal_conversation_id(user_id: str) -> str:
    """The 1:1 conversation id between the bot and ``user_id``.

    Real ids are opaque (``a:1qhNLq...``) but stable per bot and user; this is the
    same stable id ``FakeConnector`` returns from CreateConversation, so inbound
    personal messages and proactive 1:1 sends land in one conversation."""
    return f"a:1:{user_id}"


def thread_conversation_id(channel_id: str, root_id: str) -> str:
    """A channel thread's conversation id, as Teams sends it on channel messages."""
    return f"{channel_id};messageid={root_id}"


# ---------------------------------------------------------------------- time


def _timestamps(timestamp: datetime | None, timezone: str) -> dict[str, str]:
    at = (timestamp or datetime.now(UTC)).astimezone(UTC)
    try:
        local = at.astimezone(ZoneInfo(timezone))
    except ZoneInfoNotFoundError:
        local = at
    return {
        "timestamp": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "localTimestamp": local.isoformat(timespec="milliseconds"),
    }


def _client_info(timezone: str, locale: str) -> dict[str, Any]:
    return {
        "locale": locale,
        "country": locale.rsplit("-", 1)[-1],
        "platform": "Web",
        "timezone": timezone,
        "type": "clientInfo",
    }


def mention_entity(account: dict[str, Any], text: str | None = None) -> dict[str, Any]:
    """A ``mention`` entity for ``account`` (``text`` defaults to ``<at>name</at>``)."""
    return {
        "mentioned": {"id": account["id"], "name": account["name"]},
        "text": text if text is not None else f"<at>{account['name']}</at>",
        "type": "mention",
    }


def _base(
    activity_type: str,
    service_url: str,
    *,
    activity_id: str,
    sender: dict[str, Any],
    app_id: str,
    bot_name: str,
    timestamp: datetime | None,
    timezone: str,
    locale: str,
    client: Literal["full", "locale", "none"] = "full",
) -> dict[str, Any]:
    """Common fields. ``client`` says how much of the user's client context Teams
    adds: user-initiated activities carry ``localTimestamp``/``locale``/
    ``localTimezone``; installationUpdate only ``locale``; conversationUpdate none."""
    times = _timestamps(timestamp, timezone)
    activity: dict[str, Any] = {
        "type": activity_type,
        "id": activity_id,
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": dict(sender),
        "recipient": bot_account(app_id, bot_name),
        "timestamp": times["timestamp"],
    }
    if client == "full":
        activity.update(
            {"localTimestamp": times["localTimestamp"], "locale": locale, "localTimezone": timezone}
        )
    elif client == "locale":
        activity["locale"] = locale
    return activity


def _where(
    sender: dict[str, Any],
    *,
    tenant_id: str,
    conversation_id: str | None,
    team_id: str | None,
    channel_id: str | None,
    thread_root_id: str | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(conversation, channelData) for a personal chat or, with ``channel_id``, a
    channel thread rooted at ``thread_root_id``."""
    if channel_id is None:
        personal: dict[str, Any] = {
            "conversationType": "personal",
            "tenantId": tenant_id,
            "id": conversation_id or personal_conversation_id(sender["id"]),
        }
        return personal, {"tenant": {"id": tenant_id}}
    team = team_id or TEAM_ID
    if conversation_id is None:
        if thread_root_id is None:
            raise ValueError("a channel activity needs thread_root_id or conversation_id")
        conversation_id = thread_conversation_id(channel_id, thread_root_id)
    conversation: dict[str, Any] = {
        "isGroup": True,
        "conversationType": "channel",
        "tenantId": tenant_id,
        "id": conversation_id,
    }
    channel_data = {
        "teamsChannelId": channel_id,
        "teamsTeamId": team,
        "channel": {"id": channel_id},
        "team": {"id": team},
        "tenant": {"id": tenant_id},
    }
    return conversation, channel_data


def _html(text: str, mentions: list[dict[str, Any]]) -> str:
    """The ``text/html`` rendering Teams attaches to a typed message."""
    body = html.escape(text)
    for index, mention in enumerate(mentions):
        name = html.escape(mention["mentioned"]["name"])
        span = (
            '<span itemtype="http://schema.skype.com/Mention" itemscope="" '
            f'itemid="{index}">{name}</span>'
        )
        body = body.replace(html.escape(mention["text"]), span, 1)
    return f"<p>{body}</p>"


# ---------------------------------------------------------------------- messages


def channel_message(
    service_url: str,
    *,
    text: str,
    user: dict[str, Any],
    team_id: str = TEAM_ID,
    channel_id: str = CHANNEL_ID,
    mention_bot: bool = True,
    activity_id: str | None = None,
    thread_root_id: str | None = None,
    tenant_id: str = TENANT_ID,
    app_id: str = APP_ID,
    bot_name: str = BOT_NAME,
    timestamp: datetime | None = None,
    timezone: str = TIMEZONE,
    locale: str = LOCALE,
) -> dict[str, Any]:
    """A message posted in a team channel.

    A new post starts its own thread (conversation id ``<channel>;messageid=<id>``);
    pass ``thread_root_id`` for a reply inside an existing thread (Teams sends no
    ``replyToId`` for those, the root is only in the conversation id). With
    ``mention_bot`` the text starts with ``<at>Playcaller</at> `` and a matching
    mention entity is added -- bots only receive channel messages that @mention
    them (unless granted RSC ``ChannelMessage.Read.Group``)."""
    activity_id = activity_id or new_message_id()
    conversation, channel_data = _where(
        user,
        tenant_id=tenant_id,
        conversation_id=None,
        team_id=team_id,
        channel_id=channel_id,
        thread_root_id=thread_root_id or activity_id,
    )
    mentions = [mention_entity(bot_account(app_id, bot_name))] if mention_bot else []
    full_text = f"<at>{bot_name}</at> {text}" if mention_bot else text
    activity = _base(
        "message",
        service_url,
        activity_id=activity_id,
        sender=user,
        app_id=app_id,
        bot_name=bot_name,
        timestamp=timestamp,
        timezone=timezone,
        locale=locale,
    )
    activity.update(
        {
            "text": full_text,
            "textFormat": "plain",
            "attachments": [{"contentType": "text/html", "content": _html(full_text, mentions)}],
            "conversation": conversation,
            "entities": [*mentions, _client_info(timezone, locale)],
            "channelData": channel_data,
        }
    )
    return activity


def personal_message(
    service_url: str,
    *,
    text: str,
    user: dict[str, Any],
    conversation_id: str | None = None,
    activity_id: str | None = None,
    tenant_id: str = TENANT_ID,
    app_id: str = APP_ID,
    bot_name: str = BOT_NAME,
    timestamp: datetime | None = None,
    timezone: str = TIMEZONE,
    locale: str = LOCALE,
) -> dict[str, Any]:
    """A message in the user's 1:1 chat with the bot (no @mention needed)."""
    conversation, channel_data = _where(
        user,
        tenant_id=tenant_id,
        conversation_id=conversation_id,
        team_id=None,
        channel_id=None,
        thread_root_id=None,
    )
    activity = _base(
        "message",
        service_url,
        activity_id=activity_id or new_message_id(),
        sender=user,
        app_id=app_id,
        bot_name=bot_name,
        timestamp=timestamp,
        timezone=timezone,
        locale=locale,
    )
    activity.update(
        {
            "text": text,
            "textFormat": "plain",
            "attachments": [{"contentType": "text/html", "content": _html(text, [])}],
            "conversation": conversation,
            "entities": [_client_info(timezone, locale)],
            "channelData": channel_data,
        }
    )
    return activity


# ---------------------------------------------------------------------- card actions


def submit_message(
    service_url: str,
    *,
    value: dict[str, Any],
    user: dict[str, Any],
    reply_to_id: str,
    conversation_id: str | None = None,
    team_id: str | None = None,
    channel_id: str | None = None,
    tenant_id: str = TENANT_ID,
    app_id: str = APP_ID,
    bot_name: str = BOT_NAME,
    timestamp: datetime | None = None,
    timezone: str = TIMEZONE,
    locale: str = LOCALE,
) -> dict[str, Any]:
    """An ``Action.Submit`` from a card the bot posted (``reply_to_id`` = the card's
    activity id): a ``message`` with no ``text`` whose ``value`` is the action's
    ``data`` merged with the card's input values (pass them merged).

    Personal chat by default; give ``channel_id`` (and ``team_id``) for a card in a
    channel -- the conversation is then the card's thread, rooted at ``reply_to_id``
    unless ``conversation_id`` says otherwise."""
    conversation, channel_data = _where(
        user,
        tenant_id=tenant_id,
        conversation_id=conversation_id,
        team_id=team_id,
        channel_id=channel_id,
        thread_root_id=reply_to_id,
    )
    activity = _base(
        "message",
        service_url,
        activity_id=new_event_id(),
        sender=user,
        app_id=app_id,
        bot_name=bot_name,
        timestamp=timestamp,
        timezone=timezone,
        locale=locale,
    )
    activity.update(
        {
            "conversation": conversation,
            "entities": [_client_info(timezone, locale)],
            "channelData": {**channel_data, "source": {"name": "message"}},
            "replyToId": reply_to_id,
            "value": dict(value),
        }
    )
    return activity


def execute_invoke(
    service_url: str,
    *,
    verb: str,
    data: dict[str, Any],
    user: dict[str, Any],
    reply_to_id: str,
    action_id: str | None = None,
    title: str | None = None,
    trigger: Literal["manual", "automatic"] = "manual",
    conversation_id: str | None = None,
    team_id: str | None = None,
    channel_id: str | None = None,
    tenant_id: str = TENANT_ID,
    app_id: str = APP_ID,
    bot_name: str = BOT_NAME,
    timestamp: datetime | None = None,
    timezone: str = TIMEZONE,
    locale: str = LOCALE,
) -> dict[str, Any]:
    """A Universal Actions ``Action.Execute`` (or card ``refresh``, ``trigger="automatic"``):
    ``invoke`` named ``adaptiveCard/action``; ``data`` is the action's data merged with
    the card's inputs. The bot must answer in the HTTP response (InvokeResponse).
    Conversation placement as for ``submit_message``."""
    conversation, channel_data = _where(
        user,
        tenant_id=tenant_id,
        conversation_id=conversation_id,
        team_id=team_id,
        channel_id=channel_id,
        thread_root_id=reply_to_id,
    )
    action: dict[str, Any] = {"type": "Action.Execute"}
    if action_id is not None:
        action["id"] = action_id
    if title is not None:
        action["title"] = title
    action.update({"verb": verb, "data": dict(data)})
    activity = _base(
        "invoke",
        service_url,
        activity_id=new_event_id(),
        sender=user,
        app_id=app_id,
        bot_name=bot_name,
        timestamp=timestamp,
        timezone=timezone,
        locale=locale,
    )
    activity.update(
        {
            "name": "adaptiveCard/action",
            "conversation": conversation,
            "entities": [_client_info(timezone, locale)],
            "channelData": {**channel_data, "source": {"name": "message"}},
            "replyToId": reply_to_id,
            "value": {"action": action, "trigger": trigger},
        }
    )
    return activity


# ---------------------------------------------------------------------- installs


def bot_added_to_team(
    service_url: str,
    *,
    installer: dict[str, Any],
    team_id: str = TEAM_ID,
    channel_id: str | None = None,
    channel_name: str | None = None,
    team_name: str = TEAM_NAME,
    aad_group_id: str = AAD_GROUP_ID,
    tenant_id: str = TENANT_ID,
    app_id: str = APP_ID,
    bot_name: str = BOT_NAME,
    timestamp: datetime | None = None,
    timezone: str = TIMEZONE,
    locale: str = LOCALE,
) -> dict[str, Any]:
    """The ``conversationUpdate`` a bot gets when it is added to a team.

    The conversation is the channel the installer picked (``channel_id``; default the
    General channel, whose id *is* the team id); ``membersAdded`` holds the bot;
    ``channelData`` has ``eventType: teamMemberAdded``, the team's id/name/aadGroupId
    and ``settings.selectedChannel``. The installer's ``from`` carries no name."""
    selected = channel_id or team_id
    conversation: dict[str, Any] = {
        "isGroup": True,
        "conversationType": "channel",
        "tenantId": tenant_id,
        "id": selected,
    }
    if channel_name is not None:
        conversation["name"] = channel_name
    activity = _base(
        "conversationUpdate",
        service_url,
        activity_id=new_event_id(),
        sender={"id": installer["id"], "aadObjectId": installer["aadObjectId"]},
        app_id=app_id,
        bot_name=bot_name,
        timestamp=timestamp,
        timezone=timezone,
        locale=locale,
        client="none",
    )
    activity.update(
        {
            "membersAdded": [{"id": bot_id(app_id)}],
            "conversation": conversation,
            "channelData": {
                "settings": {"selectedChannel": {"id": selected}},
                "team": {"aadGroupId": aad_group_id, "name": team_name, "id": team_id},
                "eventType": "teamMemberAdded",
                "tenant": {"id": tenant_id},
            },
        }
    )
    return activity


def installation_update(
    service_url: str,
    *,
    user: dict[str, Any],
    action: InstallAction = "add",
    team_id: str | None = None,
    channel_id: str | None = None,
    channel_name: str | None = None,
    team_name: str = TEAM_NAME,
    aad_group_id: str = AAD_GROUP_ID,
    conversation_id: str | None = None,
    tenant_id: str = TENANT_ID,
    app_id: str = APP_ID,
    bot_name: str = BOT_NAME,
    timestamp: datetime | None = None,
    timezone: str = TIMEZONE,
    locale: str = LOCALE,
) -> dict[str, Any]:
    """An ``installationUpdate`` (``action`` add/remove/add-upgrade/remove-upgrade).

    With ``team_id`` it is the team-scope shape (conversation = the selected channel,
    default General); otherwise the personal-scope shape for ``user``'s 1:1 chat."""
    activity = _base(
        "installationUpdate",
        service_url,
        activity_id=new_event_id(),
        sender={"id": user["id"], "aadObjectId": user["aadObjectId"]},
        app_id=app_id,
        bot_name=bot_name,
        timestamp=timestamp,
        timezone=timezone,
        locale=locale,
        client="locale",
    )
    if team_id is None:
        conversation, channel_data = _where(
            user,
            tenant_id=tenant_id,
            conversation_id=conversation_id,
            team_id=None,
            channel_id=None,
            thread_root_id=None,
        )
    else:
        selected = channel_id or team_id
        conversation = {
            "isGroup": True,
            "id": selected,
            "conversationType": "channel",
            "tenantId": tenant_id,
        }
        if channel_name is not None:
            conversation["name"] = channel_name
        channel_data = {
            "settings": {"selectedChannel": {"id": selected}},
            "channel": {"id": selected},
            "team": {"aadGroupId": aad_group_id, "name": team_name, "id": team_id},
            "tenant": {"id": tenant_id},
            "source": {"name": "message"},
        }
    activity.update(
        {
            "entities": [{"type": "clientInfo", "locale": locale}],
            "conversation": conversation,
            "channelData": channel_data,
            "action": action,
        }
    )
    return activity


def bot_added_to_personal(
    service_url: str,
    *,
    user: dict[str, Any],
    conversation_id: str | None = None,
    tenant_id: str = TENANT_ID,
    app_id: str = APP_ID,
    bot_name: str = BOT_NAME,
    timestamp: datetime | None = None,
    timezone: str = TIMEZONE,
    locale: str = LOCALE,
) -> dict[str, Any]:
    """The ``conversationUpdate`` for a personal install: ``membersAdded`` holds the
    bot and the user; no ``eventType``."""
    conversation, channel_data = _where(
        user,
        tenant_id=tenant_id,
        conversation_id=conversation_id,
        team_id=None,
        channel_id=None,
        thread_root_id=None,
    )
    sender = {"id": user["id"], "aadObjectId": user["aadObjectId"]}
    activity = _base(
        "conversationUpdate",
        service_url,
        activity_id=new_event_id(),
        sender=sender,
        app_id=app_id,
        bot_name=bot_name,
        timestamp=timestamp,
        timezone=timezone,
        locale=locale,
        client="none",
    )
    activity.update(
        {
            "membersAdded": [{"id": bot_id(app_id)}, dict(sender)],
            "conversation": conversation,
            "channelData": channel_data,
        }
    )
    return activity


def personal_install(
    service_url: str,
    *,
    user: dict[str, Any],
    conversation_id: str | None = None,
    tenant_id: str = TENANT_ID,
    app_id: str = APP_ID,
    bot_name: str = BOT_NAME,
    timestamp: datetime | None = None,
) -> list[dict[str, Any]]:
    """What a personal-scope install delivers: an ``installationUpdate`` (add) and a
    ``conversationUpdate`` (membersAdded bot + user), as two separate POSTs. Teams does
    not promise their order; handle either first."""
    common: dict[str, Any] = {
        "user": user,
        "conversation_id": conversation_id,
        "tenant_id": tenant_id,
        "app_id": app_id,
        "bot_name": bot_name,
        "timestamp": timestamp,
    }
    return [
        installation_update(service_url, action="add", **common),
        bot_added_to_personal(service_url, **common),
    ]
