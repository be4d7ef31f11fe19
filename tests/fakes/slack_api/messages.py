"""The fake Slack's Web API methods for messages, conversations and users."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from typing import Any

from tests.fakes.slack_api.common import CANT_BE_DISPLAYED, SlackError, truthy, ts_value
from tests.fakes.slack_api.state import SlackState


class MessageMethods(SlackState):
    """api.test, auth.test, apps.connections.open, chat.*, conversations.*, users.*."""

    # ------------------------------------------------------------------ methods

    def _api_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "args": {k: v for k, v in args.items() if k != "token"}}

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if self._closing:
            raise SlackError("service_unavailable")
        return {"ok": True, "url": self.socket_url}

    def _chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        blocks = self._blocks(args)
        attachments = args.get("attachments")
        text = args.get("text") or args.get("markdown_text")
        if not text and not blocks and not attachments:
            raise SlackError("no_text")
        metadata = self._metadata(args)
        ts = self._next_ts()
        message: dict[str, Any] = {
            "user": self.bot_user_id,
            "type": "message",
            "ts": ts,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": text or CANT_BE_DISPLAYED,
            "team": self.team_id,
            "bot_profile": self._bot_profile(),
        }
        if blocks:
            message["blocks"] = blocks
        if attachments:
            message["attachments"] = attachments
        thread_ts = args.get("thread_ts")
        if thread_ts:
            thread_ts = str(thread_ts)
            message["thread_ts"] = thread_ts
            parent = self.message(channel, thread_ts)
            if parent is not None:
                message["parent_user_id"] = parent.get("user")
                parent["thread_ts"] = thread_ts
                parent["reply_count"] = int(parent.get("reply_count", 0)) + 1
                parent["latest_reply"] = ts
            if truthy(args.get("reply_broadcast")):
                message["subtype"] = "thread_broadcast"
        if metadata:
            message["metadata"] = metadata
        self.messages.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": dict(message)}

    def _stored_for_edit(self, args: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        channel = self._channel(args)
        ts = self._require(args, "ts", "message_not_found")
        message = self.message(channel, ts)
        if message is None:
            raise SlackError("message_not_found")
        if message.get("user") != self.bot_user_id:
            raise SlackError("cant_update_message")
        return channel, message

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, message = self._stored_for_edit(args)
        blocks = self._blocks(args)
        attachments = args.get("attachments")
        text = args.get("text") or args.get("markdown_text")
        if not text and blocks is None and attachments is None:
            raise SlackError("no_text")
        metadata = self._metadata(args)
        # Omitted fields keep their previous value; an empty list/object removes it.
        if blocks is not None:
            if blocks:
                message["blocks"] = blocks
            else:
                message.pop("blocks", None)
        if attachments is not None:
            if attachments:
                message["attachments"] = attachments
            else:
                message.pop("attachments", None)
        if metadata is not None:
            if metadata:
                message["metadata"] = metadata
            else:
                message.pop("metadata", None)
        if text:
            message["text"] = text
        elif blocks:
            message["text"] = CANT_BE_DISPLAYED
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {
            "ok": True,
            "channel": channel,
            "ts": message["ts"],
            "text": message["text"],
            "message": dict(message),
        }

    def _chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, message = self._stored_for_edit(args)
        self.messages[channel].remove(message)
        return {"ok": True, "channel": channel, "ts": message["ts"]}

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        user = self._require(args, "user", "user_not_in_channel")
        if self.users and user not in self.users:
            raise SlackError("user_not_found")
        blocks = self._blocks(args)
        text = args.get("text") or args.get("markdown_text")
        if not text and not blocks and not args.get("attachments"):
            raise SlackError("no_text")
        message_ts = self._next_ts()
        self.ephemerals.append(
            {
                "channel": channel,
                "user": user,
                "text": text or "",
                "blocks": blocks,
                "thread_ts": args.get("thread_ts"),
                "message_ts": message_ts,
            }
        )
        return {"ok": True, "message_ts": message_ts}

    def _chat_get_permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        ts = self._require(args, "message_ts", "message_not_found")
        if self.message(channel, ts) is None:
            raise SlackError("message_not_found")
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://{self.team_domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        existing = args.get("channel")
        if existing:
            if existing not in self.dm_channels:
                raise SlackError("channel_not_found")
            return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": existing}}
        raw = args.get("users")
        users_list = raw if isinstance(raw, list) else str(raw or "").split(",")
        users = sorted({str(u).strip() for u in users_list if str(u).strip()})
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) > 8:
            raise SlackError("too_many_users")
        if self.users:
            for user in users:
                if user not in self.users:
                    raise SlackError("user_not_found")
        key = ",".join(users)
        channel_id = "D" + hashlib.sha1(key.encode()).hexdigest()[:10].upper()
        already = channel_id in self.dm_channels
        self.dm_channels[channel_id] = key
        if already:
            return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": channel_id}}
        return {"ok": True, "channel": {"id": channel_id}}

    def _limit(self, args: dict[str, Any], default: int = 100) -> int:
        try:
            limit = int(args.get("limit") or default)
        except (TypeError, ValueError) as e:
            raise SlackError("invalid_limit") from e
        return max(1, min(limit, 999))

    def _window(self, args: dict[str, Any]) -> Callable[[str], bool]:
        """``oldest``/``latest``/``inclusive`` as a test on a message ts."""
        try:
            oldest = float(str(args.get("oldest") or "0"))
        except ValueError as e:
            raise SlackError("invalid_ts_oldest") from e
        try:
            latest = float(str(args["latest"])) if args.get("latest") else None
        except ValueError as e:
            raise SlackError("invalid_ts_latest") from e
        inclusive = truthy(args.get("inclusive"))

        def inside(ts: str) -> bool:
            value = ts_value(ts)
            if value < oldest or (value == oldest and not inclusive and oldest > 0):
                return False
            return latest is None or value < latest or (value == latest and inclusive)

        return inside

    def _cursor_ts(self, args: dict[str, Any]) -> float | None:
        cursor = args.get("cursor")
        if not cursor:
            return None
        try:
            decoded = base64.b64decode(str(cursor), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as e:
            raise SlackError("invalid_cursor") from e
        prefix, _, ts = decoded.partition(":")
        if prefix != "next_ts" or not ts:
            raise SlackError("invalid_cursor")
        return ts_value(ts)

    @staticmethod
    def _cursor_after(ts: str) -> str:
        return base64.b64encode(f"next_ts:{ts}".encode()).decode()

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """Top-level messages (and thread broadcasts) in the window, newest first;
        the cursor continues with older messages."""
        channel = self._channel(args)
        limit = self._limit(args)
        include_metadata = truthy(args.get("include_all_metadata"))
        inside = self._window(args)
        before = self._cursor_ts(args)
        selected = []
        for message in sorted(
            self.messages.get(channel, []), key=lambda m: ts_value(m["ts"]), reverse=True
        ):
            thread_ts = message.get("thread_ts")
            if (
                thread_ts
                and thread_ts != message["ts"]
                and message.get("subtype") != ("thread_broadcast")
            ):
                continue  # replies live in conversations.replies
            if not inside(message["ts"]):
                continue
            if before is not None and ts_value(message["ts"]) >= before:
                continue
            selected.append(message)
        page = selected[:limit]
        more = len(selected) > limit
        return {
            "ok": True,
            "messages": [self._public(m, include_metadata) for m in page],
            "has_more": more,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {
                "next_cursor": self._cursor_after(page[-1]["ts"]) if more else ""
            },
        }

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        """The parent (first page only), then its replies in the window oldest
        first; the cursor continues with newer replies."""
        channel = self._channel(args)
        ts = self._require(args, "ts", "thread_not_found")
        parent = self.message(channel, ts)
        if parent is None:
            raise SlackError("thread_not_found")
        include_metadata = truthy(args.get("include_all_metadata"))
        inside = self._window(args)
        after = self._cursor_ts(args)
        replies = sorted(
            (
                m
                for m in self.messages.get(channel, [])
                if m.get("thread_ts") == ts
                and m["ts"] != ts
                and inside(m["ts"])
                and (after is None or ts_value(m["ts"]) > after)
            ),
            key=lambda m: ts_value(m["ts"]),
        )
        limit = self._limit(args, default=1000)
        page = replies[:limit]
        more = len(replies) > limit
        thread = page if after is not None else [parent, *page]
        return {
            "ok": True,
            "messages": [self._public(m, include_metadata) for m in thread],
            "has_more": more,
            "response_metadata": {
                "next_cursor": self._cursor_after(page[-1]["ts"]) if more else ""
            },
        }

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = self._require(args, "user", "user_not_found")
        user = self.users.get(user_id)
        if user is None:
            raise SlackError("user_not_found")
        return {"ok": True, "user": user}

    def _users_lookup_by_email(self, args: dict[str, Any]) -> dict[str, Any]:
        email = self._require(args, "email", "users_not_found").strip().lower()
        for user in self.users.values():
            if str(user["profile"].get("email", "")).lower() == email:
                return {"ok": True, "user": user}
        raise SlackError("users_not_found")
