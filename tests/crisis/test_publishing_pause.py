"""The publishing pause, end to end in the console on SQLite and Redis:
pause_publishing in the playbook or /crisis pause holds every approved
scheduled post on the affected accounts; a post's timer firing during the
pause publishes nothing; resume or resolve let future posts keep their time
and never publish a post late; a crash between the incident write and
approvals following is finished by the backstop timer."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.external_sends import ExternalSender
from handlers.approvals.records import KIND as DRAFT_KIND
from handlers.approvals.records import Draft, DraftState
from handlers.approvals.records import from_record as draft_from_record
from handlers.crisis import statements
from handlers.crisis.incident import Incident
from tests.conftest import Chat
from tests.crisis.test_console import incident
from tests.fakes.webhook_receiver import FakeReceiver

POST = "Our spring sale starts today: https://acme.com/sale"
DECLARE = (
    "as priya",
    "channel #hub",
    '/crisis service-outage service="the AcmePay app" status_url=https://status.acme.com '
    "AcmePay payments fail",
)


async def schedule(chat: Chat, at: str) -> Draft:
    """Sam's post on @acme, approved by Maria, to go out at ``at``."""
    await chat.run("as sam", "channel #care", "/draft acme-x")
    await chat.run(f'fill text="{POST}" publish_at="{at}"', "submit")
    await chat.run("as maria", "click Approve")
    drafts = [draft_from_record(r) for r in await chat.store.find(DRAFT_KIND, "scheduled")]
    (draft,) = [d for d in drafts if d.publish_at and d.publish_at.strftime("%H:%M") == at[-5:]]
    return draft


async def reread(chat: Chat, draft: Draft) -> Draft:
    record = await chat.store.get(DRAFT_KIND, draft.id)
    assert record is not None
    return draft_from_record(record)


def incident_card(chat: Chat) -> str:
    number = next(n for n, s in chat.session.shown.items() if s.card.card_key == "incident:CR-1")
    return chat.card(number)


async def test_declaring_holds_a_scheduled_post_and_resume_releases_it(chat: Chat) -> None:
    post = await schedule(chat, "2026-03-02 10:00")
    out = await chat.run(*DECLARE)
    assert "Publishing paused" in incident_card(chat)
    assert "Held: @acme at 10:00 by Sam Okafor." in incident_card(chat)
    assert "Scheduled post held" in out and "@sam]" in out
    assert "Your post due at 10:00 will not go out while the pause lasts" in out
    held = await reread(chat, post)
    assert held.held_by == ("crisis:CR-1",) and held.state is DraftState.APPROVED
    out = await chat.run("as priya", "/crisis resume")
    assert "Publishing resumed for CR-1. 1 post keeps its time." in out
    assert "Scheduled post released" in out and "Your post keeps its time: 10:00." in out
    assert "Publishing paused" not in incident_card(chat)
    assert "Held:" not in incident_card(chat)
    assert (await reread(chat, post)).held_by == ()
    out = await chat.run("advance 59m")
    assert "publish it now" not in out
    out = await chat.run("advance 2m")
    assert "Approved post: publish it now" in out
    log = await chat.store.audit_log(f"draft:{post.id}")
    assert [(e.actor, e.action) for e in log if e.action in ("draft.held", "draft.released")] == [
        ("priya", "draft.held"),
        ("priya", "draft.released"),
    ]


async def test_a_timer_firing_during_the_pause_publishes_nothing(
    chat: Chat,
    receiver: FakeReceiver,
    lane: ExternalSender,
) -> None:
    post = await schedule(chat, "2026-03-02 09:30")
    await chat.run(*DECLARE)
    out = await chat.run("advance 31m")
    await lane.drain()
    await chat.run("advance 1s")
    await lane.drain()
    assert receiver.published == [] and receiver.attempts == []
    stored = await reread(chat, post)
    assert stored.state is DraftState.APPROVED and stored.last("publish_due") is None
    assert "Held: @acme at 09:30 by Sam Okafor." in incident_card(chat)
    # Resolving ends the pause; a post whose time passed is never published late.
    out = await chat.run("as priya", "/crisis resolve")
    await lane.drain()
    await chat.run("advance 1s")
    await lane.drain()
    assert receiver.published == []
    assert (await reread(chat, post)).state is DraftState.MISSED
    assert "Scheduled post not published" in out
    assert "was due at 09:30, while publishing was paused (crisis CR-1)" in out
    assert "schedule it again with /draft acme-x" in out
    assert "Publishing paused" not in incident_card(chat)


async def test_pause_and_resume_by_command_and_double_clicks(chat: Chat) -> None:
    await chat.run(*DECLARE)
    out = await chat.run("/crisis pause")
    assert "Publishing is already paused for CR-1." in out
    await chat.run("/crisis resume")
    out = await chat.run("/crisis resume")
    assert "Publishing is not paused for CR-1." in out
    # Paused again: a post approved for later is held when its time comes.
    out = await chat.run("/crisis pause")
    assert (
        "Publishing is paused for CR-1 on acme-x, acme-bsky. No scheduled post was waiting." in out
    )
    out = await chat.run("as sam", "/crisis pause")
    assert "Only a crisis lead or coach can run an incident." in out
    post = await schedule(chat, "2026-03-02 09:40")
    out = await chat.run("advance 41m")
    assert "publish it now" not in out
    assert "Scheduled post held" in out
    assert "Held: @acme at 09:40 by Sam Okafor." in incident_card(chat)
    assert (await reread(chat, post)).held_by == ("crisis:CR-1",)
    log = await chat.store.audit_log("pause:crisis:CR-1")
    assert [(e.actor, e.action) for e in log] == [
        ("priya", "publishing.paused"),
        ("priya", "publishing.resumed"),
        ("priya", "publishing.paused"),
    ]
    stored: Incident = await incident(chat)
    assert [e.what.value for e in stored.timeline if e.what.value in ("paused", "resumed")] == [
        "resumed",
        "paused",
    ]


class Killed(Exception):
    """The process dies after the incident write."""


async def test_a_crash_after_resume_is_finished_by_the_backstop(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    post = await schedule(chat, "2026-03-02 10:00")
    await chat.run(*DECLARE)
    assert (await reread(chat, post)).held_by == ("crisis:CR-1",)

    async def dies(*args: object, **kwargs: object) -> None:
        raise Killed

    real = statements.sync_publishing
    monkeypatch.setattr(statements, "sync_publishing", dies)
    with pytest.raises(Killed):
        await chat.run("as priya", "/crisis resume")
    assert not (await incident(chat)).publishing_paused
    assert (await reread(chat, post)).held_by == ("crisis:CR-1",)
    monkeypatch.setattr(statements, "sync_publishing", real)
    out = await chat.run("advance 1m")
    assert (await reread(chat, post)).held_by == ()
    assert "Scheduled post released" in out
    assert await chat.store.get("publishing_pause", "crisis:CR-1") is None
    out = await chat.run("advance 59m")
    assert "Approved post: publish it now" in out


async def test_a_pause_synced_after_a_later_resume_does_not_hold_posts_for_good(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pause and a resume close together: the pause's follow-up runs last,
    with the incident as the pause wrote it. It must act on the incident as
    it is (resumed), or the post would stay held with no pause to end."""
    post = await schedule(chat, "2026-03-02 10:00")
    await chat.run(*DECLARE)
    real = statements.sync_publishing

    async def resume_then_late_pause(turn: object, incident: Incident, *args: object) -> object:
        done = await real(turn, incident, *args)  # type: ignore[arg-type]
        stale = replace(incident, publishing_paused=True)
        await real(turn, stale)  # type: ignore[arg-type]
        return done

    monkeypatch.setattr(statements, "sync_publishing", resume_then_late_pause)
    await chat.run("as priya", "/crisis resume")
    monkeypatch.setattr(statements, "sync_publishing", real)
    assert not (await incident(chat)).publishing_paused
    assert (await reread(chat, post)).held_by == ()
    assert await chat.store.get("publishing_pause", "crisis:CR-1") is None
    out = await chat.run("advance 60m")
    assert "Approved post: publish it now" in out
