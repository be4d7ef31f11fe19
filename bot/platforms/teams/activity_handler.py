"""botbuilder's side of a turn: the ActivityHandler that hands each activity
to the platform, and the middleware that closes each turn's Connector client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botbuilder.core import ActivityHandler, BotAdapter, InvokeResponse, Middleware, TurnContext
from botbuilder.schema import Activity

from bot.core.text_repair import json_without_lone_surrogates
from bot.logs import bind_request_id

if TYPE_CHECKING:
    from bot.platforms.teams.platform import TeamsPlatform


def without_lone_surrogates_in(activity: Activity) -> Activity:
    """``activity`` itself when it has no lone surrogate, else a repaired copy."""
    serialized = activity.serialize()
    repaired = json_without_lone_surrogates(serialized)
    return activity if repaired == serialized else Activity().deserialize(repaired)


class CloseConnectorClient(Middleware):  # type: ignore[misc]
    """Close each turn's Connector client when the turn ends (botbuilder leaves it open)."""

    async def on_turn(self, context: TurnContext, logic: Any) -> None:
        try:
            await logic()
        finally:
            client = context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
            if client is not None:
                await client.__aexit__(None, None, None)


class PlaycallerBot(ActivityHandler):  # type: ignore[misc]
    """botbuilder's entry points, each handed to the platform."""

    def __init__(self, platform: TeamsPlatform) -> None:
        self.platform = platform

    async def on_turn(self, turn_context: TurnContext) -> None:
        bind_request_id(turn_context.activity.id)
        # Half an emoji in a JSON escape (a lone surrogate) becomes U+FFFD
        # once, here: every write of the turn (inbox, directory) then encodes.
        turn_context.activity = without_lone_surrogates_in(turn_context.activity)
        if turn_context.activity.type not in ("message", "invoke"):
            # Messages and invokes are stored in the inbox first; they remember
            # their sender when they are handled.
            await self.platform.people.remember(turn_context)
        await super().on_turn(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await self.platform.on_message(turn_context)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        if turn_context.activity.name != "adaptiveCard/action":
            return InvokeResponse(status=501)
        return await self.platform.on_execute(turn_context)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        await self.platform.on_installed(turn_context)

    async def on_installation_update(self, turn_context: TurnContext) -> None:
        await self.platform.on_installed(turn_context)
