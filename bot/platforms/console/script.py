"""The console's command language apart from the chat itself: ``expect``
windows and counts, button specs, and which channels exist."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from bot.core.cards import Form, InputKind
from bot.core.directory import channel_for_spoke
from bot.core.model import Actor
from bot.core.settings import Settings
from bot.core.storage import Store

PLATFORM = "console"

COMMANDS = (
    "as PERSON · channel NAME · channel new #NAME · /triage [spoke] · /ask QUESTION",
    "say TEXT · click LABEL [#N] · fill FIELD=VALUE ... · submit · advance 16m",
    "ingest FILE · mention {json} · expect TEXT · help · quit",
)


class ScriptError(Exception):
    """A script line that cannot be run (unknown command, bad argument)."""


@dataclass
class Expectations:
    """``expect`` reads what the commands since the previous group of expects printed."""

    window_start: int = 0
    after_expect: bool = False
    held: int = 0
    failed: list[str] = field(default_factory=list)

    def next_command(self, transcript_length: int) -> None:
        """A command after a group of expects opens a new window."""
        if self.after_expect:
            self.window_start = transcript_length
            self.after_expect = False

    def check(self, wanted: str, transcript: list[str]) -> bool:
        """True when ``wanted`` was printed in the current window."""
        if not wanted:
            raise ScriptError("expect needs some text")
        self.after_expect = True
        if wanted in "\n".join(transcript[self.window_start :]):
            self.held += 1
            return True
        self.failed.append(wanted)
        return False

    def summary(self) -> str:
        """``23 expectations held`` or ``1 of 23 expectations failed: ...``."""
        total = self.held + len(self.failed)
        noun = "expectation" if total == 1 else "expectations"
        if not self.failed:
            return f"{total} {noun} held"
        return f"{len(self.failed)} of {total} {noun} failed"


def label_and_number(spec: str) -> tuple[str, int | None]:
    """``Claim #3`` -> ("Claim", 3); ``Claim`` -> ("Claim", None)."""
    label = spec.strip()
    number = None
    head, _, tail = label.rpartition(" ")
    if tail.startswith("#") and tail[1:].isdigit():
        label, number = head.strip(), int(tail[1:])
    if not label:
        raise ScriptError("click needs a button label")
    return label, number


async def known_channels(store: Store, settings: Settings, opened: set[str]) -> list[str]:
    """Spoke channels (configured or linked) and channels opened with ``channel new``."""
    places: list[str] = []
    for spoke in settings.all_spokes():
        place = await channel_for_spoke(store, settings, PLATFORM, spoke.id)
        configured = settings.channels.get(spoke.id, {}).get(PLATFORM)
        for candidate in (place, configured):
            if candidate and candidate not in places:
                places.append(candidate)
    places.extend(sorted(opened - set(places)))
    return places


async def resolve_channel(name: str, store: Store, settings: Settings, opened: set[str]) -> str:
    """The channel ``name`` means (``#care``, ``care``, a spoke id, ``@maria``,
    ``new #press``); an unknown one is refused with the known ones."""
    wanted = name.strip()
    if not wanted:
        raise ScriptError("channel needs a name, e.g. #care or @maria")
    if wanted.startswith("@"):
        return wanted
    first, _, rest = wanted.partition(" ")
    if first == "new":
        fresh = "#" + rest.strip().lstrip("#")
        if fresh == "#" or " " in fresh:
            raise ScriptError("channel new needs one name, e.g. channel new #press")
        opened.add(fresh)
        return fresh
    known = await known_channels(store, settings, opened)
    bare = wanted.lstrip("#")
    for spoke in settings.all_spokes():
        place = await channel_for_spoke(store, settings, PLATFORM, spoke.id)
        if bare == spoke.id and place:
            return place
    for place in known:
        if bare == place.lstrip("#"):
            return place
    raise ScriptError(
        f"no channel {wanted!r}: use one of {', '.join(known)}, @PERSON for a direct message, "
        f"or 'channel new #{bare}' for a channel no spoke uses yet"
    )


def actor_named(settings: Settings, name: str) -> Actor:
    """A person from the config by id or email; anyone else is an employee."""
    wanted = name.strip().lower()
    if not wanted:
        raise ScriptError("as needs a person")
    person = settings.people.get(wanted) or settings.person_by_email(wanted)
    if person is None:
        return settings.unknown_actor(PLATFORM, wanted, wanted)
    return settings.actor_for(person, PLATFORM)


def fill_values(form: Form, spec: str) -> dict[str, str]:
    """``outcome=replied note="Refunded"`` checked against the form's inputs."""
    try:
        pairs = shlex.split(spec)
    except ValueError as error:
        raise ScriptError(f"fill: {error}") from error
    known = {i.id: i for i in form.inputs}
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ScriptError(f"fill: expected FIELD=VALUE, got {pair!r}")
        item = known.get(name)
        if item is None:
            raise ScriptError(f"fill: the form has no field {name!r} (fields: {', '.join(known)})")
        if item.kind is InputKind.CHOICE and value not in {c.value for c in item.choices}:
            allowed = ", ".join(c.value for c in item.choices)
            raise ScriptError(f"fill: {name} must be one of {allowed}")
        values[name] = value[: item.max_length]
    return values
