"""Teams senders to configured people: by Teams or Entra id in config, else by the
roster's email, remembered in the :class:`~bot.platforms.teams.directory.TeamsDirectory`.

Apart from the platform (as :mod:`bot.platforms.slack.people` is in Slack) because who
someone is does not depend on how their activity arrived: a live turn, a recovered
one, or a conversation update all remember and resolve senders the same way.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo

from bot.core.model import Actor
from bot.platforms.teams.directory import TeamsDirectory
from bot.platforms.teams.inbound import MalformedActivity, Origin, origin

if TYPE_CHECKING:
    from bot.runtime import Runtime

# The platform's logger name: the roster lookup logged as "bot.platforms.teams.platform"
# before it moved here, and log filters may name it.
log = logging.getLogger("bot.platforms.teams.platform")

PLATFORM = "teams"


class TeamsPeople:
    """Remembers every sender and conversation, and says which person a sender is."""

    def __init__(self, runtime: Runtime, directory: TeamsDirectory) -> None:
        # The runtime, not its settings: ``serve`` replaces ``runtime.settings`` after
        # the platform is made, and people are looked up in the settings in use.
        self.runtime = runtime
        self.directory = directory

    async def remember(self, turn_context: TurnContext) -> None:
        """Keep the conversation reference and the sender of every activity."""
        activity = turn_context.activity
        try:
            sender = origin(activity.serialize())
        except MalformedActivity:
            return
        reference = TurnContext.get_conversation_reference(activity).serialize()
        key = sender.channel_key
        reference["conversation"] = {**reference.get("conversation", {}), "id": key}
        await self.directory.remember_conversation(key, reference, sender.conversation_type)
        person = await self._person_for(turn_context, sender)
        await self.directory.remember_user(
            sender.user_id,
            {
                "user_id": sender.user_id,
                "aad_object_id": sender.aad_object_id,
                "name": sender.user_name,
                "service_url": sender.service_url,
                "tenant_id": sender.tenant_id,
                "bot_id": (activity.recipient.id if activity.recipient else None),
                "person": person,
                "personal_conversation": key if sender.is_direct else None,
            },
        )

    async def _person_for(self, turn_context: TurnContext, sender: Origin) -> str | None:
        settings = self.runtime.settings
        for candidate in (sender.aad_object_id, sender.user_id):
            person = settings.person_by_platform_id(PLATFORM, candidate) if candidate else None
            if person:
                return person.id
        known = await self.directory.user(sender.user_id)
        if known and known.get("person"):
            return str(known["person"])
        if known and known.get("email_checked"):
            return None
        try:
            member = await TeamsInfo.get_member(turn_context, sender.user_id)
        except Exception as error:  # the roster is best effort
            log.info("roster lookup for %s failed: %r", sender.user_id, error)
            return None
        email = getattr(member, "email", None) or getattr(member, "user_principal_name", None) or ""
        person = settings.person_by_email(email) if email else None
        await self.directory.remember_user(sender.user_id, {"email": email, "email_checked": True})
        return person.id if person else None

    async def actor(self, sender: Origin) -> Actor:
        settings = self.runtime.settings
        known = await self.directory.user(sender.user_id)
        person_id = known.get("person") if known else None
        person = settings.people.get(str(person_id)) if person_id else None
        if person is None:
            return settings.unknown_actor(PLATFORM, sender.user_id, sender.user_name)
        return settings.actor_for(person, PLATFORM, sender.user_id)
