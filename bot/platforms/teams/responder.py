"""Immediate answers to the person who sent an activity: in an invoke's
response (Teams has no ephemeral messages), or in the conversation."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from botbuilder.core import CardFactory, InvokeResponse, MessageFactory, TurnContext
from msrest.serialization import Model

from bot.core.cards import Card, Form, TextBlock
from bot.core.events import Event
from bot.outbox import Undeliverable
from bot.platforms.teams import render

if TYPE_CHECKING:
    from bot.platforms.teams.delivery import TeamsDelivery

log = logging.getLogger(__name__)

MESSAGE_TYPE = "application/vnd.microsoft.activity.message"
CARD_TYPE = "application/vnd.microsoft.card.adaptive"


class InvokeBody(Model):
    """An adaptiveCard/action response whose value may be a card or a string."""

    _attribute_map = {  # noqa: RUF012 - msrest reads this class attribute
        "status_code": {"key": "statusCode", "type": "int"},
        "type": {"key": "type", "type": "str"},
        "value": {"key": "value", "type": "object"},
    }

    def __init__(self, *, status_code: int, type: str, value: object) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.status_code = status_code
        self.type = type
        self.value = value


class Notes:
    """An invoke's answers for the person who clicked (Teams has no ephemeral messages)."""

    def __init__(self) -> None:
        self.notes: list[TextBlock] = []
        self.form: Form | None = None
        self.card: Card | None = None


class TeamsResponder:
    """Answers one person: in an invoke's response, or in the conversation.

    Teams has no ephemeral messages: a private answer to a click replaces the
    clicked card for the clicker only (the invoke response); a private answer
    to a message in a channel goes to the person's 1:1 chat with the bot.
    """

    def __init__(
        self,
        turn_context: TurnContext,
        notes: Notes | None,
        delivery: TeamsDelivery | None = None,
    ) -> None:
        self.turn_context = turn_context
        self.invoke = notes
        self.delivery = delivery

    async def reply(self, event: Event, card: Card, *, ephemeral: bool) -> None:
        if self.invoke is not None and ephemeral:
            if not card.title and not card.buttons:
                self.invoke.notes.extend(card.blocks)
            else:
                self.invoke.card = card
            return
        if ephemeral and not event.direct and self.delivery is not None:
            try:
                await self.delivery.dm(
                    event.actor.person_id, card, delivery_id=uuid.uuid4().hex, attempt=1
                )
                return
            except Undeliverable as error:
                log.warning("a private answer went to the conversation: %s", error)
        await self.turn_context.send_activity(
            MessageFactory.attachment(CardFactory.adaptive_card(render.adaptive_card(card)))
        )

    async def open_form(self, event: Event, form: Form) -> None:
        if self.invoke is not None:
            self.invoke.form = form  # the clicker's card turns into the form
            return
        await self.turn_context.send_activity(
            MessageFactory.attachment(CardFactory.adaptive_card(render.form_card(form)))
        )


def invoke_response(status: int, kind: str, value: object) -> InvokeResponse:
    return InvokeResponse(status=200, body=InvokeBody(status_code=status, type=kind, value=value))
