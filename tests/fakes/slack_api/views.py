"""The fake Slack's views.* methods (modals and App Home)."""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.slack_api.common import (
    MAX_VIEW_BLOCKS,
    MAX_VIEW_BYTES,
    MAX_VIEW_STACK,
    SlackError,
    ViewStack,
)
from tests.fakes.slack_api.state import SlackState


class ViewMethods(SlackState):
    """views.open, views.push, views.update, views.publish and their trigger ids."""

    def _consume_trigger(self, args: dict[str, Any]) -> str:
        trigger_id = args.get("trigger_id")
        if not isinstance(trigger_id, str) or not trigger_id.strip():
            raise SlackError("invalid_trigger_id")
        if trigger_id in self.expired_triggers:
            raise SlackError("expired_trigger_id")
        if trigger_id in self.used_triggers:
            raise SlackError("exchanged_trigger_id")
        self.used_triggers.add(trigger_id)
        return trigger_id

    def _checked_view(self, args: dict[str, Any], *, home: bool = False) -> dict[str, Any]:
        view = args.get("view")
        if not isinstance(view, dict):
            raise SlackError(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] missing required field: view"]},
            )
        problems: list[str] = []
        view_type = view.get("type")
        if view_type not in (("home",) if home else ("modal",)):
            problems.append("[ERROR] must be a valid enum value [json-pointer:/view/type]")
        if not home and not isinstance(view.get("title"), dict):
            problems.append("[ERROR] missing required field: title [json-pointer:/view]")
        blocks = view.get("blocks")
        if not isinstance(blocks, list):
            problems.append("[ERROR] missing required field: blocks [json-pointer:/view]")
        elif len(blocks) > MAX_VIEW_BLOCKS:
            problems.append("[ERROR] must be less than 101 items [json-pointer:/view/blocks]")
        if len(str(view.get("private_metadata", ""))) > 3000:
            problems.append(
                "[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]"
            )
        if len(str(view.get("callback_id", ""))) > 255:
            problems.append(
                "[ERROR] must be less than 256 characters [json-pointer:/view/callback_id]"
            )
        if problems:
            raise SlackError("invalid_arguments", response_metadata={"messages": problems})
        if len(json.dumps(view).encode()) > MAX_VIEW_BYTES:
            raise SlackError("view_too_large")
        return view

    def _render_view(
        self,
        view: dict[str, Any],
        view_id: str,
        *,
        root_view_id: str,
        previous_view_id: str | None,
    ) -> dict[str, Any]:
        rendered: dict[str, Any] = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view.get("type", "modal"),
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": None,
            "previous_view_id": previous_view_id,
            "root_view_id": root_view_id,
            "app_id": self.app_id,
            "external_id": "",
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        rendered.update(view)
        rendered["id"] = view_id
        rendered["state"] = {"values": {}}
        rendered["hash"] = self._hash()
        return rendered

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        self._consume_trigger(args)
        view = self._checked_view(args)
        view_id = self._view_id()
        rendered = self._render_view(view, view_id, root_view_id=view_id, previous_view_id=None)
        self.views[view_id] = rendered
        self._view_stacks.append(ViewStack(view_id, [view_id]))
        return {"ok": True, "view": rendered}

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        self._consume_trigger(args)
        view = self._checked_view(args)
        if not self._view_stacks:
            raise SlackError("not_found")
        stack = self._view_stacks[-1]
        if len(stack.view_ids) >= MAX_VIEW_STACK:
            raise SlackError("push_limit_reached")
        view_id = self._view_id()
        rendered = self._render_view(
            view, view_id, root_view_id=stack.root_id, previous_view_id=stack.view_ids[-1]
        )
        stack.view_ids.append(view_id)
        self.views[view_id] = rendered
        return {"ok": True, "view": rendered}

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._checked_view(args)
        view_id = args.get("view_id")
        external_id = args.get("external_id")
        current: dict[str, Any] | None = None
        if view_id:
            current = self.views.get(str(view_id))
        elif external_id:
            current = next(
                (v for v in self.views.values() if v.get("external_id") == external_id), None
            )
        else:
            raise SlackError(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] view_id or external_id is required"]},
            )
        if current is None:
            raise SlackError("not_found")
        expected = args.get("hash")
        if expected and expected != current["hash"]:
            raise SlackError("hash_conflict")
        rendered = self._render_view(
            view,
            current["id"],
            root_view_id=current["root_view_id"],
            previous_view_id=current["previous_view_id"],
        )
        self.views[current["id"]] = rendered
        return {"ok": True, "view": rendered}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = self._require(args, "user_id", "invalid_arguments")
        if self.users and user_id not in self.users:
            raise SlackError("user_not_found")
        view = self._checked_view(args, home=True)
        current = self.home_views.get(user_id)
        expected = args.get("hash")
        if expected and current is not None and expected != current["hash"]:
            raise SlackError("hash_conflict")
        view_id = current["id"] if current is not None else self._view_id()
        rendered = self._render_view(view, view_id, root_view_id=view_id, previous_view_id=None)
        self.home_views[user_id] = rendered
        return {"ok": True, "view": rendered}
