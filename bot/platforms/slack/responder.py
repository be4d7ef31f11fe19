"""Immediate answers to one person in one place: ephemeral notes and modals."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.cards import Card, Form
from bot.core.events import Event
from bot.platforms.slack import render
from bot.platforms.slack.errors import error_of
from bot.platforms.slack.inbound import (
    Origin,
    wrap_form_context,
)

log = logging.getLogger(__name__)


class SlackResponder:
    """Immediate answers to one person in one place (ephemeral notes, modals)."""

    def __init__(self, client: AsyncWebClient, origin: Origin) -> None:
        self.client = client
        self.origin = origin

    async def reply(self, event: Event, card: Card, *, ephemeral: bool) -> None:
        origin = self.origin
        payload = render.message(card)
        try:
            if origin.channel_id and ephemeral:
                await self.client.chat_postEphemeral(
                    channel=origin.channel_id, user=origin.user_id, **payload
                )
                return
            channel = origin.channel_id or await self._dm_channel()
            await self.client.chat_postMessage(channel=channel, **payload)
        except SlackApiError as error:
            status, code, _ = error_of(error)
            if code in ("channel_not_found", "not_in_channel") and origin.channel_id:
                # Not in that channel: answer in a direct message instead.
                await self.client.chat_postMessage(channel=await self._dm_channel(), **payload)
                return
            log.warning("could not answer %s: %s %s", origin.user_id, status, code)

    async def _dm_channel(self) -> str:
        opened = await self.client.conversations_open(users=self.origin.user_id)
        return str((opened.get("channel") or {}).get("id"))

    async def open_form(self, event: Event, form: Form) -> None:
        if not self.origin.trigger_id:
            await self.reply(event, Card(title="", blocks=()), ephemeral=True)
            return
        wrapped = Form(
            form_id=form.form_id,
            title=form.title,
            inputs=form.inputs,
            submit_label=form.submit_label,
            context=wrap_form_context(form.context, self.origin.channel_id),
            intro=form.intro,
        )
        try:
            await self.client.views_open(
                trigger_id=self.origin.trigger_id, view=render.modal(wrapped)
            )
        except SlackApiError as error:
            log.warning("views.open failed: %s", error_of(error)[1])
