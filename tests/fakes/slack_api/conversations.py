"""The fake Slack's channel methods: conversations.create, .invite, .setTopic,
.setPurpose, .archive and .list, with Slack's payloads and ``ok: false``
errors (name_taken, invalid_name_*, restricted_action, already_in_channel,
cant_invite_self, channel_not_found, too_long, not_in_channel,
already_archived, cant_archive_general). An archived channel is left out of
.list with ``exclude_archived`` and refuses posts (is_archived)."""

from __future__ import annotations

import re
import time
from typing import Any

from tests.fakes.slack_api.common import SlackError, truthy
from tests.fakes.slack_api.state import SlackState

_NAME = re.compile(r"^[a-z0-9_-]+$")
MAX_NAME = 80
MAX_TOPIC = 250
MAX_INVITES = 1000


class ConversationMethods(SlackState):
    """Channels the workspace has, who is in them, and their topics."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.channels: dict[str, dict[str, Any]] = {}
        """channel id -> Slack's conversation object (plus ``members``)."""
        self.create_refused: str | None = None

    # ------------------------------------------------------------------ seeding

    def add_channel(
        self,
        name: str,
        *,
        creator: str = "U0SOMEONE",
        created: int = 1700000000,
        purpose: str = "",
    ) -> str:
        """A channel that exists already (someone else's, by default, made
        at ``created``, seconds since the epoch, with ``purpose``)."""
        channel = self._new_channel(name, creator, private=False)
        channel["created"] = created
        channel["purpose"] = {"value": purpose, "creator": creator, "last_set": created}
        return str(channel["id"])

    def refuse_create(self, error: str | None) -> None:
        """Answer every conversations.create with ``error`` (e.g. restricted_action)."""
        self.create_refused = error

    def channel_named(self, name: str) -> dict[str, Any] | None:
        return next((c for c in self.channels.values() if c["name"] == name), None)

    # ------------------------------------------------------------------ methods

    def _conversations_create(self, args: dict[str, Any]) -> dict[str, Any]:
        name = str(args.get("name") or "")
        if not name:
            raise SlackError("invalid_name_required")
        if self.create_refused:
            raise SlackError(self.create_refused)
        if len(name) > MAX_NAME:
            raise SlackError("invalid_name_maxlength")
        if not _NAME.match(name):
            raise SlackError("invalid_name_specials")
        if not name.strip("-_"):
            raise SlackError("invalid_name_punctuation")
        if self.channel_named(name) is not None:
            raise SlackError("name_taken")
        channel = self._new_channel(name, self.bot_user_id, private=truthy(args.get("is_private")))
        return {"ok": True, "channel": self._public_channel(channel)}

    def _conversations_invite(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._room(args)
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            raise SlackError("no_user")
        if len(users) > MAX_INVITES:
            raise SlackError("too_many_users")
        errors = []
        for user in users:
            problem = self._invite_problem(channel, user)
            if problem:
                errors.append({"user": user, "ok": False, "error": problem})
        if errors and not truthy(args.get("force")):
            raise SlackError(errors[0]["error"], errors=errors)
        failed = {e["user"] for e in errors}
        for user in users:
            if user not in failed:
                channel["members"].append(user)
        if errors and len(failed) == len(set(users)):
            raise SlackError(errors[0]["error"], errors=errors)
        answer: dict[str, Any] = {"ok": True, "channel": self._public_channel(channel)}
        if errors:
            answer["errors"] = errors
        return answer

    def _conversations_set_topic(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._room(args)
        topic = str(args.get("topic") or "")
        if len(topic) > MAX_TOPIC:
            raise SlackError("too_long")
        if self.bot_user_id not in channel["members"]:
            raise SlackError("not_in_channel")
        channel["topic"] = {"value": topic, "creator": self.bot_user_id, "last_set": 0}
        return {"ok": True, "channel": self._public_channel(channel)}

    def _conversations_set_purpose(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._room(args)
        purpose = str(args.get("purpose") or "")
        if len(purpose) > MAX_TOPIC:
            raise SlackError("too_long")
        if self.bot_user_id not in channel["members"]:
            raise SlackError("not_in_channel")
        channel["purpose"] = {"value": purpose, "creator": self.bot_user_id, "last_set": 0}
        return {"ok": True, "channel": self._public_channel(channel)}

    def _conversations_archive(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._room(args)
        if channel["is_archived"]:
            raise SlackError("already_archived")
        if channel.get("is_general"):
            raise SlackError("cant_archive_general")
        if self.bot_user_id not in channel["members"]:
            raise SlackError("not_in_channel")
        channel["is_archived"] = True
        self.archived_channels.add(str(channel["id"]))
        return {"ok": True}

    def _conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        limit = max(1, min(int(args.get("limit") or 100), 1000))
        ordered = [
            c
            for c in self.channels.values()
            if not (c["is_archived"] and truthy(args.get("exclude_archived")))
        ]
        start = int(str(args.get("cursor") or "0").removeprefix("dGVhbTo") or 0)
        page = ordered[start : start + limit]
        following = start + limit
        return {
            "ok": True,
            "channels": [self._public_channel(c) for c in page],
            "response_metadata": {
                "next_cursor": f"dGVhbTo{following}" if following < len(ordered) else ""
            },
        }

    # ------------------------------------------------------------------ helpers

    def _new_channel(self, name: str, creator: str, *, private: bool) -> dict[str, Any]:
        channel_id = f"C0ROOM{self._next_id():04d}"
        channel: dict[str, Any] = {
            "id": channel_id,
            "name": name,
            "name_normalized": name,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_private": private,
            "is_archived": False,
            "created": int(self.clock() if self.clock is not None else time.time()),
            "creator": creator,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "members": [creator],
        }
        self.channels[channel_id] = channel
        if self.known_channels:
            self.known_channels.add(channel_id)
        return channel

    def _room(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(args.get("channel") or ""))
        if channel is None:
            raise SlackError("channel_not_found")
        return channel

    def _invite_problem(self, channel: dict[str, Any], user: str) -> str | None:
        if user == self.bot_user_id:
            return "cant_invite_self"
        if user not in self.users:
            return "user_not_found"
        if user in channel["members"]:
            return "already_in_channel"
        return None

    def _public_channel(self, channel: dict[str, Any]) -> dict[str, Any]:
        shown = {k: v for k, v in channel.items() if k != "members"}
        shown["is_member"] = self.bot_user_id in channel["members"]
        shown["num_members"] = len(channel["members"])
        return shown
