"""Every card type the bot sends, produced by driving the real handlers.

A console chat walks through a morning (mentions, the queue, clicks, timers,
forms, guideline questions) and catches each card and form as the handlers
make it, named by type. The rendering check renders them all; the design note's
pictures come from the same run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta

from bot.core.cards import Card, Form, TextBlock
from bot.core.events import Event
from bot.core.ports import SendOutcome
from bot.core.publishing import PUBLISH_LANE
from bot.core.storage import LeasedOutboxItem
from bot.publishing import PublishLane, WebhookPublisher, WebhookSettings
from tests.conftest import Chat

Step = Callable[..., Awaitable[list["Shot"]]]


@dataclass(frozen=True)
class Shot:
    """One card as a person sees it: notes (for the clicker) over a card, or a form."""

    card: Card | None = None
    form: Form | None = None
    notes: tuple[TextBlock, ...] = ()
    errors: tuple[tuple[str, str], ...] = ()


@dataclass
class Catcher:
    """Catches what the console session shows, in order."""

    seen: list[Shot] = field(default_factory=list)

    def install(self, chat: Chat) -> None:
        session = chat.session
        post, update, reply, open_form = (
            session._post_card,
            session.update,
            session.reply,
            session.open_form,
        )

        def caught_post(place: str, card: Card) -> dict[str, object]:
            self.seen.append(Shot(card=card))
            return post(place, card)

        async def caught_update(ref: dict[str, object], card: Card) -> None:
            self.seen.append(Shot(card=card))
            await update(ref, card)

        async def caught_reply(event: Event, card: Card, *, ephemeral: bool) -> None:
            if not card.title and not card.buttons and not card.fields:
                self.seen.append(Shot(notes=card.blocks))
            else:
                self.seen.append(Shot(card=card))
            await reply(event, card, ephemeral=ephemeral)

        async def caught_form(event: Event, form: Form) -> None:
            self.seen.append(Shot(form=form))
            await open_form(event, form)

        session._post_card = caught_post  # type: ignore[method-assign]
        session.update = caught_update  # type: ignore[method-assign]
        session.reply = caught_reply  # type: ignore[method-assign]
        session.open_form = caught_form  # type: ignore[method-assign]


async def gallery(chat: Chat) -> dict[str, Shot]:
    """Card type -> how it looked, from one walk through the bot."""
    catcher = Catcher()
    catcher.install(chat)
    found: dict[str, Shot] = {}

    async def step(*lines: str) -> list[Shot]:
        start = len(catcher.seen)
        await chat.run(*lines)
        return catcher.seen[start:]

    def card_titled(shots: list[Shot], words: str) -> Shot:
        return next(s for s in shots if s.card is not None and words in s.card.title)

    def incident(shots: list[Shot]) -> Shot:
        return next(s for s in shots if s.card is not None and s.card.title.startswith("CR-1 ·"))

    def note(shots: list[Shot]) -> Shot:
        return next(s for s in shots if s.notes)

    def with_note(shots: list[Shot], card: Shot) -> Shot:
        """How a Teams clicker sees it: the note on top of the updated card."""
        return Shot(card=card.card, notes=note(shots).notes)

    shots = await step("ingest feed.jsonl")
    found["mention-open"] = card_titled(shots, "@angry_dan")
    found["mention-hostile"] = card_titled(shots, "@acme.refunds.official")
    found["mention-news"] = card_titled(shots, "@markets-desk")
    long_post = "My order never arrived and support keeps closing my tickets. " * 80
    shots = await step(
        'mention {"network": "x", "id": "long-1", "text": "' + long_post + '", '
        '"created_at": "2026-03-02T08:59:00Z", "url": "https://x.com/long_post_person/status/'
        + "9"
        * 60
        + '", "author": {"handle": "long_post_person", "name": "A person with a long name '
        'who writes a lot", "followers": 5}}'
    )
    found["mention-long"] = card_titled(shots, "@long_post_person")
    shots = await step("as alex", "channel #care", "/triage")
    found["triage-queue"] = card_titled(shots, "queue")
    queue_number = max(chat.session.shown)
    shots = await step("as sam", "click Claim #1")
    found["mention-claimed"] = with_note(shots, card_titled(shots, "@angry_dan"))
    shots = await step("as alex", f"click Claim #{queue_number}")
    found["refusal"] = with_note(shots, card_titled(shots, "@angry_dan"))
    shots = await step("advance 6m")
    found["reminder"] = next(s for s in shots if s.card is not None and s.card.title)
    shots = await step("advance 10m")
    found["breach"] = card_titled(shots, "breached")
    found["mention-escalated"] = card_titled(shots, "@commuter_kim")
    shots = await step("advance 15m")
    found["nudge"] = card_titled(shots, "Still on it")
    shots = await step("as sam", "channel #care", "click Resolve #1")
    found["resolve-form"] = next(s for s in shots if s.form is not None)
    form = found["resolve-form"].form
    assert form is not None
    found["resolve-form-error"] = Shot(
        form=form, errors=tuple(form.problems({"outcome": "", "note": "later"}).items())
    )
    shots = await step('fill outcome=replied note="Refunded and replied"', "submit")
    found["mention-resolved"] = with_note(shots, card_titled(shots, "@angry_dan"))
    shots = await step("as maria", "click Assign #7")
    found["assign-form"] = next(s for s in shots if s.form is not None)
    shots = await step("fill person=alex", "submit")
    found["assigned"] = card_titled(shots, "Assigned to you")
    shots = await step("as sam", "click Escalate to coach #6")
    found["escalate-form"] = next(s for s in shots if s.form is not None)
    shots = await step('fill reason="They ask about a refund we cannot promise"', "submit")
    found["escalated-to-coach"] = card_titled(shots, "Escalated to you")
    shots = await step("as alex", "click Claim #8", "advance 50m")
    found["idle-released"] = card_titled(shots, "released")
    shots = await step("as maria", "channel @maria", "say help")
    found["help-coach"] = next(s for s in shots if s.card is not None)
    shots = await step("as jo", "channel @jo", "say help")
    found["help-employee"] = next(s for s in shots if s.card is not None)
    shots = await step("say a reporter just DMed me on linkedin, what now?")
    found["ask-answer"] = next(s for s in shots if s.card is not None)
    shots = await step("/ask what is the cafeteria menu on friday?")
    found["ask-unsure"] = next(s for s in shots if s.card is not None)
    shots = await step("click Ask a coach")
    found["ask-hub"] = next(s for s in shots if s.card is not None)
    shots = await step("as maria", "channel #hub", "click Reply")
    found["reply-form"] = next(s for s in shots if s.form is not None)
    shots = await step('fill answer="The menu is on the intranet."', "submit")
    found["ask-reply"] = next(s for s in shots if s.card is not None and s.card.title)
    shots = await step("/ask report")
    found["ask-report"] = next(s for s in shots if s.card is not None)
    await approvals(step, found)
    # A surge in Customer Care: one live card with groups, a cluster claim, the end.
    shots = await step("as sam", "channel #care", "ingest surge.jsonl", "advance 10s")
    found["surge-live"] = [s for s in shots if s.card and "Surge in" in s.card.title][-1]
    # The same burst is a spike too: alerts to the hub, per spoke and per topic.
    found["spike-spoke"] = [s for s in shots if s.card and "Spike in" in s.card.title][-1]
    found["spike-topic"] = card_titled(shots, "Spike: mentions of")
    shots = await step("click Claim cluster", "advance 10s")
    found["surge-claimed"] = with_note(shots, card_titled(shots, "Surge in Customer Care"))
    shots = await step("advance 16m")
    found["surge-ended"] = card_titled(shots, "Surge in Customer Care ended")
    # A crisis declared from a playbook, paged, acknowledged, resolved.
    shots = await step("as priya", "channel #hub", "/crisis")
    found["crisis-declare-form"] = next(s for s in shots if s.form is not None)
    shots = await step(
        'fill playbook=service-outage summary="AcmePay card payments fail for everyone" '
        'var_service="the AcmePay app" var_status_url=https://status.acme.com',
        "submit",
    )
    found["crisis-incident"] = incident(shots)
    found["crisis-page"] = card_titled(shots, "You are paged")
    shots = await step("advance 10m")
    found["crisis-escalated"] = [s for s in shots if s.card and s.card.title.startswith("CR-1")][-1]
    found["crisis-page-escalation"] = next(
        s
        for s in shots
        if s.card is not None and any(b.text == "Escalation step 1" for b in s.card.badges)
    )
    shots = await step("as maria", "click Acknowledge #" + str(max(chat.session.shown) - 1))
    found["crisis-acknowledged"] = with_note(shots, card_titled(shots, "You are paged"))
    shots = await step("as sam", "/crisis list")
    found["crisis-list"] = card_titled(shots, "Open incidents")
    shots = await step("/crisis timeline")
    found["crisis-timeline"] = card_titled(shots, "Timeline of")
    incident_number = next(
        n
        for n, s in chat.session.shown.items()
        if s.card.title.startswith("CR-1 ·") and s.place == "#hub"
    )
    shots = await step(f"click Done #{incident_number}")
    found["crisis-item-done"] = with_note(shots, incident(shots))
    shots = await step("as priya", f"click Page someone #{incident_number}")
    found["crisis-page-form"] = next(s for s in shots if s.form is not None)
    await step("fill person=lee", "submit")
    # A risky mention for Customer Care while CR-1 is open: the Crisis badge,
    # and the same card in the incident's room (here its card's thread).
    shots = await step(
        'mention {"network": "x", "id": "g-crisis-1", "text": "@acme AcmePay charged me twice '
        'today, my lawyer will hear about this", '
        '"created_at": "2026-03-02T09:20:00Z", "author": {"handle": "billing_burned"}}'
    )
    found["mention-crisis"] = card_titled(shots, "@billing_burned")
    crisis_card = found["mention-crisis"].card
    assert crisis_card is not None and any(b.text == "Crisis CR-1" for b in crisis_card.badges)
    shots = await step("advance 30m")
    found["crisis-update-reminder"] = card_titled(shots, "Time for an update")
    await statements(step, found, incident_number, incident, card_titled)
    shots = await step("as priya", f"click Resolve #{incident_number}")
    found["crisis-resolved"] = incident(shots)
    found["post-released"] = card_titled(shots, "Scheduled post released")
    found["crisis-summary"] = card_titled(shots, "Resolved: CR-1")
    shots = await step(
        "as jo", "/crisis raise A video of our CEO shouting at a waiter is everywhere"
    )
    found["crisis-raise"] = card_titled(shots, "Possible crisis")
    await webhook_publishing(chat, step, found)
    return found


async def statements(
    step: Step,
    found: dict[str, Shot],
    number: int,
    incident: Callable[[list[Shot]], Shot],
    card_titled: Callable[[list[Shot], str], Shot],
) -> None:
    """Holding statements through approvals, and the publishing pause, as the
    incident card and the DMs show them."""
    shots = await step("as sam", f"click Draft statement #{number}")
    found["crisis-statement-drafted"] = incident(shots)
    found["statement-approval"] = card_titled(shots, "for approval")
    shots = await step("as maria", "click Approve", "advance 1s")
    found["crisis-statement-approved"] = incident(shots)
    shots = await step(
        "as sam", "click Mark as sent", 'fill url="https://x.com/acme/status/901"', "submit"
    )
    shots = await step("advance 1s")
    found["crisis-statement-published"] = incident(shots)
    await step(
        "channel #care",
        "/draft acme-x",
        'fill text="Spring is here: the travel card ships in May" publish_at="2026-03-02 15:00"',
        "submit",
        "as maria",
        "click Approve",
    )
    shots = await step("as priya", "/crisis resume", "/crisis pause")
    found["crisis-paused"] = [s for s in shots if s.card and s.card.title.startswith("CR-1 ·")][-1]
    found["post-held"] = card_titled(shots, "Scheduled post held")


async def approvals(step: Step, found: dict[str, Shot]) -> None:
    """Reply approvals: the draft form, blocked findings, the approval card as
    it moves, the author's notes, Mark as sent, /approvals."""

    def card_titled(shots: list[Shot], words: str) -> Shot:
        return next(s for s in shots if s.card is not None and words in s.card.title)

    def form_in(shots: list[Shot]) -> Shot:
        return next(s for s in shots if s.form is not None)

    await step(
        'mention {"network": "x", "id": "g-501", "text": "@acme two weeks and still no refund '
        'for my cancelled order <!channel> *really*", "url": "https://x.com/jane_doe/status/501", '
        '"created_at": "2026-03-02T09:40:00Z", "author": {"handle": "jane_doe"}}',
        "as alex",
        "channel #care",
        "click Claim",
    )
    found["draft-form"] = form_in(await step("click Draft reply"))
    shots = await step(
        'fill text="Hi @jane_doe, mail me at jane.doe@example.org, WE ARE TERRIBLY SORRY '
        'ABOUT THIS."',
        "submit",
    )
    found["draft-blocked"] = card_titled(shots, "to fix")
    shots = await step(
        "click Edit draft",
        'fill text="Hi @jane_doe <!channel>, we guarantee the refund lands in 3-5 working days. '
        'Globex would not. **Sorry**."',
        "submit",
    )
    found["approval-pending"] = card_titled(shots, "for approval")
    shots = await step("as maria", "click Request changes")
    found["changes-form"] = form_in(shots)
    shots = await step('fill note="No comparisons with competitors, please"', "submit")
    found["changes-requested"] = card_titled(shots, "Changes requested")
    found["approval-changes"] = card_titled(shots, "for approval")
    shots = await step(
        "as alex",
        "click Edit draft",
        'fill text="Hi @jane_doe, we guarantee the refund lands in 3-5 working days. Sorry!"',
        "submit",
    )
    found["approval-diff"] = card_titled(shots, "for approval")
    shots = await step("as maria", "click Approve")
    found["approval-legal-step"] = card_titled(shots, "for approval")
    shots = await step("as lee", "click Approve")
    found["approval-approved"] = card_titled(shots, "for approval")
    found["send-card"] = card_titled(shots, "post it now")
    shots = await step("as alex", "click Mark as sent")
    found["sent-form"] = form_in(shots)
    shots = await step('fill url="https://x.com/acme/status/777"', "submit")
    found["mention-replied"] = card_titled(shots, "mention from @jane_doe")
    shots = await step("as maria", "/approvals")
    found["approvals-list"] = card_titled(shots, "Approvals")


async def webhook_publishing(chat: Chat, step: Step, found: dict[str, Shot]) -> None:
    """Publishing through the webhook: the author's card while it is on its
    way (Cancel publishing), failed (Retry), cancelled, and a cancel that came
    too late. The lane's settlements are written as the lane writes them (its
    ``settled`` effects with the item's completion), without the HTTP."""
    settings = chat.runtime.settings
    chat.session.runtime.settings = replace(settings, publish_webhook=True)
    # Never POSTs: only its settlement effects are used.
    publisher = WebhookPublisher(WebhookSettings("http://127.0.0.1:9/", "s"), chat.session.clock)
    lane = PublishLane(publisher)

    def card_titled(shots: list[Shot], words: str) -> Shot:
        return [s for s in shots if s.card is not None and words in s.card.title][-1]

    async def settle(ok: bool, *, leased: LeasedOutboxItem | None = None) -> list[Shot]:
        if leased is None:
            [leased] = await chat.store.lease_outbox(
                PUBLISH_LANE, chat.session.clock.now(), "gallery", timedelta(minutes=1)
            )
        outcome = SendOutcome(
            ok=ok,
            attempts=leased.attempts,
            at=chat.session.clock.now(),
            detail={"url": "https://x.com/acme/status/888", "id": "888"} if ok else {},
            reason="" if ok else "duplicate content: this account posted the same text today",
        )
        effects = lane.settled(leased.item, outcome)
        assert await chat.store.finish_outbox(leased.item.id, leased.token, effects=effects)
        return await step("advance 1s")

    for number in ("701", "702"):
        await step(
            f'mention {{"network": "x", "id": "g-{number}", "text": "@acme where is my '
            f'parcel?", "url": "https://x.com/pat_{number}/status/{number}", '
            f'"created_at": "2026-03-02T09:40:00Z", "author": {{"handle": "pat_{number}"}}}}',
            "as alex",
            "channel #care",
            "click Claim",
            "click Draft reply",
            'fill text="Hi, so sorry for the wait: your parcel leaves the depot today."',
            "submit",
        )
        shots = await step("as maria", "click Approve")
        if number == "701":
            found["publishing"] = card_titled(shots, "Publishing")
            found["approval-publishing"] = card_titled(shots, "for approval")
            shots = await settle(False)
            found["publishing-failed"] = card_titled(shots, "Publishing failed")
            await step("as alex", "click Retry")
            shots = await step("as maria", "click Cancel publishing")
            found["publishing-cancelled"] = card_titled(shots, "Publishing cancelled")
            found["approval-cancelled"] = card_titled(shots, "for approval")
        else:
            [in_flight] = await chat.store.lease_outbox(
                PUBLISH_LANE, chat.session.clock.now(), "gallery", timedelta(minutes=1)
            )
            await step("as maria", "click Cancel publishing")
            shots = await settle(True, leased=in_flight)
            found["publishing-too-late"] = card_titled(shots, "Published")
            found["approval-too-late"] = card_titled(shots, "for approval")
    chat.session.runtime.settings = settings
