"""The console chat: a person types commands, cards appear, time is injected.

The same command language drives the interactive demo and ``--script``
files (see the README). The session is the console platform: it converts
typed lines into neutral events, answers as a :class:`Responder` and
delivers outbox cards as a :class:`Delivery`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from bot.core.cards import Card, Form
from bot.core.clock import ManualClock, parse_duration
from bot.core.directory import channel_for_spoke, spoke_for_channel
from bot.core.errors import InvalidInput
from bot.core.events import Action, Command, Event, FormSubmitted, Message
from bot.core.jsontext import decode_json
from bot.core.model import Actor
from bot.core.storage import JSON
from bot.core.text import neutralize
from bot.intake.feed import LineProblem, parse_lines, parse_mention
from bot.outbox import OutboxSender, Undeliverable
from bot.platforms.console.render import BLOCK_LIMIT, form_lines, plain_lines, rich_card
from bot.platforms.console.script import (
    COMMANDS,
    PLATFORM,
    Expectations,
    ScriptError,
    actor_named,
    fill_values,
    label_and_number,
    resolve_channel,
)
from bot.runtime import Runtime


@dataclass
class Shown:
    """A card on screen: its number, where it is, and what it says now."""

    number: int
    place: str
    card: Card


@dataclass
class OpenForm:
    form: Form
    actor: Actor
    channel: str
    values: dict[str, str]


class ConsoleSession:
    """One terminal conversation with the bot."""

    platform = PLATFORM

    def __init__(
        self,
        runtime: Runtime,
        clock: ManualClock,
        console: Console,
        *,
        base_dir: Path,
        person: str = "sam",
        plain: bool = False,
    ) -> None:
        self.runtime = runtime
        self.clock = clock
        self.console = console
        self.base_dir = base_dir
        self.shown: dict[int, Shown] = {}
        self.form: OpenForm | None = None
        # What expect reads; with ``plain`` it is also exactly what is printed.
        self.transcript: list[str] = []
        self.plain = plain
        self.expectations = Expectations()
        self.opened: set[str] = set()
        self.sender = OutboxSender(
            runtime.store, self, clock, runtime.owner, card_of=runtime.card_of
        )
        self.actor = self._actor(person)
        self.channel = self._place_of(self._first_spoke(self.actor))

    # -- output ---------------------------------------------------------------

    def note(self, text: str, style: str = "dim") -> None:
        """A line from the console itself (not the bot)."""
        self.transcript.append(text)
        self.console.print(text, style=style, markup=False, highlight=False)

    def _show(self, card: Card, number: int | None, place: str, updated: bool = False) -> None:
        zone = self.runtime.settings.timezone
        lines = plain_lines(card, number, place, updated, zone)
        self.transcript.extend(lines)
        if self.plain:
            for line in lines:
                self.console.print(line, markup=False, highlight=False)
        else:
            self.console.print(rich_card(card, number, place, updated, zone))

    @property
    def failed_expectations(self) -> list[str]:
        return self.expectations.failed

    def _new_number(self) -> int:
        return max(self.shown, default=0) + 1

    # -- Delivery (outbox) ----------------------------------------------------

    async def post(
        self, destination: str, card: Card, *, delivery_id: str = "", attempt: int = 1
    ) -> JSON:
        settings = self.runtime.settings
        if not settings.has_spoke(destination):
            raise Undeliverable(f"no channel for {destination!r}")
        place = await channel_for_spoke(self.runtime.store, settings, PLATFORM, destination)
        return self._post_card(place or f"#{destination}", card)

    async def dm(
        self, person_id: str, card: Card, *, delivery_id: str = "", attempt: int = 1
    ) -> JSON:
        if person_id.startswith(f"{PLATFORM}:"):
            person_id = person_id.removeprefix(f"{PLATFORM}:")  # not in the config
        elif person_id not in self.runtime.settings.people:
            raise Undeliverable(f"unknown person {person_id!r}")
        return self._post_card(f"@{person_id}", card)

    def _post_card(self, place: str, card: Card) -> JSON:
        number = self._new_number()
        self.shown[number] = Shown(number, place, card)
        self._show(card, number, place)
        return {"number": number, "channel": place}

    async def post_in_thread(
        self, ref: JSON, card: Card, *, delivery_id: str = "", attempt: int = 1
    ) -> JSON:
        return self._post_card(f"{ref['channel']}, thread of #{ref['number']}", card)

    async def update(self, ref: JSON, card: Card) -> None:
        number = int(ref["number"])
        shown = self.shown.get(number)
        if shown is None:
            raise Undeliverable(f"card #{number} is not on this screen")
        shown.card = card
        self._show(card, number, shown.place, updated=True)

    # -- Responder --------------------------------------------------------------

    async def reply(self, event: Event, card: Card, *, ephemeral: bool) -> None:
        place = f"only {event.actor.person_id} sees this" if ephemeral else self._event_place(event)
        if card.actions():
            number = self._new_number()
            self.shown[number] = Shown(number, place, card)
            self._show(card, number, place)
        elif not card.title and len(card.blocks) == 1 and not card.fields:
            self.note(f"[{place}] {neutralize(card.blocks[0].text, BLOCK_LIMIT)}", style="cyan")
        else:
            self._show(card, None, place)

    async def open_form(self, event: Event, form: Form) -> None:
        self.form = OpenForm(
            form, event.actor, self.channel, {i.id: i.initial for i in form.inputs}
        )
        for line in form_lines(form):
            self.transcript.append(line)
            self.console.print(line, markup=False, highlight=False)

    def _event_place(self, event: Event) -> str:
        return event.platform_channel or self.channel

    # -- commands ---------------------------------------------------------------

    async def run_line(self, line: str, *, echo: bool = True) -> None:
        """Run one command line (see the README's command list). ``echo`` False:
        the terminal has shown the typed line already, so it is only recorded."""
        text = line.strip()
        if not text or text.startswith("#"):
            return
        verb, _, rest = text.partition(" ")
        rest = rest.strip()
        if verb == "expect":
            # Checked before the line is echoed, so it never matches itself.
            self._expect(rest)
            return
        self.expectations.next_command(len(self.transcript))
        typed = f"{self.actor.person_id}@{self.channel}> {text}"
        if echo:
            self.note(typed, style="bold magenta")
        else:
            self.transcript.append(typed)
        if verb == "help":
            self.note("Demo commands:\n  " + "\n  ".join(COMMANDS))
            await self._say("help")
        elif verb.startswith("/"):
            await self._command(verb[1:], rest)
        elif verb == "as":
            self.actor = self._actor(rest)
            self.note(f"(acting as {self.actor.name})")
        elif verb == "channel":
            self.channel = await resolve_channel(
                rest, self.runtime.store, self.runtime.settings, self.opened
            )
            self.note(f"(now in {self.channel})")
        elif verb == "say":
            await self._say(rest)
        elif verb == "click":
            await self._click(rest)
        elif verb == "fill":
            self._fill(rest)
        elif verb == "submit":
            await self._submit()
        elif verb == "advance":
            await self.advance(rest)
        elif verb == "ingest":
            await self.ingest_file(self._path(rest))
        elif verb == "mention":
            await self._mention(rest)
        else:
            raise ScriptError(
                f"unknown command {verb!r}: use as, channel, say, /COMMAND, click, fill, "
                "submit, advance, ingest, mention, expect or help"
            )
        await self.settle()

    async def settle(self) -> None:
        """Deliver everything queued for the console."""
        await self.sender.drain()

    async def _dispatch(self, event: Event) -> None:
        await self.runtime.handle(event, self)

    async def _envelope(self, place: str | None = None) -> dict[str, object]:
        channel = place or self.channel
        return {
            "platform": PLATFORM,
            "actor": self.actor,
            "received_at": self.clock.now(),
            "channel": await spoke_for_channel(
                self.runtime.store, self.runtime.settings, PLATFORM, channel
            ),
            "platform_channel": channel,
            "direct": channel.startswith("@"),
        }

    async def _command(self, name: str, text: str) -> None:
        await self._dispatch(Command(name=name, text=text, **await self._envelope()))  # type: ignore[arg-type]

    async def _say(self, text: str) -> None:
        if not text:
            raise ScriptError("say needs some text")
        await self._dispatch(Message(text=text, mentioned=True, **await self._envelope()))  # type: ignore[arg-type]

    async def _click(self, spec: str) -> None:
        label, number = label_and_number(spec)
        target = self._find_card(label, number)
        button = next(b for b in target.card.actions() if b.label.lower() == label.lower())
        envelope = await self._envelope(target.place)
        event = Action(
            action_id=button.action_id,
            value=button.value,
            card_key=target.card.card_key,
            **envelope,  # type: ignore[arg-type]
        )
        await self._dispatch(event)

    def _find_card(self, label: str, number: int | None) -> Shown:
        if number is not None:
            shown = self.shown.get(number)
            if shown is None:
                raise ScriptError(f"there is no card #{number}")
            if not any(b.label.lower() == label.lower() for b in shown.card.actions()):
                raise ScriptError(f"card #{number} has no button {label!r}")
            return shown
        for candidate in sorted(self.shown.values(), key=lambda s: s.number, reverse=True):
            if any(b.label.lower() == label.lower() for b in candidate.card.actions()):
                return candidate
        raise ScriptError(f"no card on screen has a button {label!r}")

    def _fill(self, spec: str) -> None:
        if self.form is None:
            raise ScriptError("no form is open")
        self.form.values.update(fill_values(self.form.form, spec))
        self.note(
            "(form filled: " + ", ".join(f"{k}={v!r}" for k, v in self.form.values.items()) + ")"
        )

    async def _submit(self) -> None:
        if self.form is None:
            raise ScriptError("no form is open")
        missing = [
            i.id for i in self.form.form.inputs if i.required and not self.form.values.get(i.id)
        ]
        if missing:
            raise ScriptError(f"submit: required field(s) missing: {', '.join(missing)}")
        opened, self.form = self.form, None
        envelope = await self._envelope(opened.channel)
        envelope["actor"] = opened.actor
        event = FormSubmitted(
            form_id=opened.form.form_id,
            values=dict(opened.values),
            context=opened.form.context,
            **envelope,  # type: ignore[arg-type]
        )
        await self._dispatch(event)

    async def advance(self, spec: str) -> None:
        """Move the clock, firing each timer at the moment it comes due."""
        try:
            delta = parse_duration(spec)
        except ValueError as error:
            raise ScriptError(f"advance: {error}") from error
        target = self.clock.now() + delta
        scheduler = self.runtime.scheduler()
        while True:
            due = await self.runtime.store.next_timer_due()
            if due is None or due > target:
                break
            if due > self.clock.now():
                self.clock.advance(due - self.clock.now())
            await scheduler.tick()
            await self.settle()
        self.clock.advance(target - self.clock.now())
        self.note(f"(clock is now {self.clock.now():%Y-%m-%d %H:%M} UTC)")

    async def ingest_file(self, path: Path) -> tuple[int, int, list[LineProblem]]:
        """Ingest a JSONL feed; report what was stored, dropped and refused."""
        try:
            lines = (await asyncio.to_thread(path.read_bytes)).splitlines()
        except OSError as error:
            raise ScriptError(f"ingest: cannot read {path}: {error.strerror}") from error
        stored = duplicates = 0
        problems: list[LineProblem] = []
        for item in parse_lines(lines):
            if isinstance(item, LineProblem):
                problems.append(item)
                self.note(f"ingest {path.name}: {item}", style="red")
            elif await self.runtime.ingest(item):
                stored += 1
            else:
                duplicates += 1
        refused = len(problems)
        self.note(
            f"(ingested {stored} mentions, {duplicates} duplicates dropped, {refused} refused)"
        )
        return stored, duplicates, problems

    async def _mention(self, raw: str) -> None:
        try:
            incoming = parse_mention(decode_json(raw))
        except InvalidInput as error:
            raise ScriptError(f"mention: {error}") from error
        if not await self.runtime.ingest(incoming):
            self.note("(duplicate mention dropped)")

    def _expect(self, wanted: str) -> None:
        if self.expectations.check(wanted, self.transcript):
            self._say_quietly(f"expect {wanted} (ok)", "green")
        else:
            self._say_quietly(f"EXPECTATION FAILED: {wanted!r} did not appear", "bold red")

    def _say_quietly(self, text: str, style: str) -> None:
        """Printed for the person but kept out of what ``expect`` reads."""
        self.console.print(text, style=style, markup=False, highlight=False)

    # -- people and places ------------------------------------------------------

    def _actor(self, name: str) -> Actor:
        return actor_named(self.runtime.settings, name)

    def _first_spoke(self, actor: Actor) -> str:
        return actor.spokes[0] if actor.spokes else self.runtime.settings.hub.id

    def _place_of(self, spoke_id: str) -> str:
        channels = self.runtime.settings.channels.get(spoke_id, {})
        return channels.get(PLATFORM, f"#{spoke_id}")

    def _path(self, raw: str) -> Path:
        if not raw:
            raise ScriptError("ingest needs a file")
        path = Path(raw)
        return path if path.is_absolute() else self.base_dir / path
