"""/crisis end to end in the console, on both backends: declare, pages,
acknowledgements, escalation by the injected clock, the checklist, resolve."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import Loaded, open_runtime
from bot.core.events import FormSubmitted
from bot.core.playbook import Severity
from bot.store import open_store
from handlers.crisis.incident import Happened, Incident, IncidentState
from handlers.crisis.records import KIND, from_record
from tests.conftest import START, Chat

DECLARE = (
    "as priya",
    "channel #hub",
    '/crisis service-outage service="the AcmePay app" status_url=https://status.acme.com '
    "AcmePay payments fail for everyone",
)


async def incident(chat: Chat, key: str = "CR-1") -> Incident:
    record = await chat.store.get(KIND, key)
    assert record is not None
    return from_record(record)


def form_submission(chat: Chat, person: str, summary: str, **envelope: object) -> FormSubmitted:
    settings = chat.runtime.settings
    return FormSubmitted(
        platform="console",
        actor=settings.actor_for(settings.people[person], "console"),
        received_at=START,
        platform_channel="#hub",
        form_id="crisis.declare",
        values={
            "playbook": "service-outage",
            "summary": summary,
            "severity": "sev1",
            "var_service": "the AcmePay app",
            "var_status_url": "https://status.acme.com",
        },
        **envelope,  # type: ignore[arg-type]
    )


async def test_the_form_declares_pages_and_posts_the_card(chat: Chat) -> None:
    out = await chat.run("as priya", "channel #hub", "/crisis")
    assert "[form · Declare a crisis]" in out
    assert "one of: data-incident | misconduct-viral | service-outage" in out
    out = await chat.run(
        'fill playbook=service-outage summary="AcmePay payments fail" severity=sev1 '
        'var_service="the AcmePay app" var_status_url=https://status.acme.com',
        "submit",
    )
    assert "Declared CR-1 · Customer-facing service outage. Paged: Maria Lopez." in out
    assert "[#1 · #hub]" in out and "CR-1 · Customer-facing service outage" in out
    assert "SEV1 · Declared · 1 of 2 acknowledged · Checklist 0/8" in out
    assert "Maria Lopez (chat): just paged" in out
    assert "Priya Raman (chat): acknowledged" in out
    # The holding statement is rendered with the variables, literally.
    assert "> Some of you cannot use the AcmePay app right now." in out
    assert "[#2 · @maria]" in out and "You are paged: CR-1" in out
    assert "Priya Raman declared crisis CR-1 and the playbook pages you as coach." in out
    assert "[Acknowledge]" in out
    stored = await incident(chat)
    assert stored.severity is Severity.SEV1 and stored.lead == "priya"
    assert stored.variables == {
        "service": "the AcmePay app",
        "status_url": "https://status.acme.com",
    }
    log = await chat.store.audit_log("incident:CR-1")
    assert [(e.actor, e.action) for e in log][:1] == [("priya", "incident.declared")]
    assert {e.detail["person"] for e in log if e.action == "incident.paged"} == {"priya", "maria"}


async def test_walk_through_ack_escalation_checklist_and_resolve(chat: Chat) -> None:
    await chat.run(*DECLARE)
    # Nobody acknowledges within ack_within (5m): Maria is paged again.
    out = await chat.run("advance 5m")
    assert "[#3 · @maria]" in out and "Reminder 1" in out
    out = await chat.run("as maria", "click Acknowledge #3")
    assert "You acknowledged CR-1." in out
    assert "Maria Lopez (chat): acknowledged after 5m" in chat.card(1)
    assert "2 of 2 acknowledged" in chat.card(1)
    # Both page cards now show the acknowledgement, without the button.
    assert "Acknowledged" in chat.card(2) and "[Acknowledge]" not in chat.card(2)
    # Everyone required acknowledged: the escalation steps at 10m and 20m never fire.
    out = await chat.run("advance 30m")
    assert "@ada" not in out and "@lee" not in out
    # Only the lead's update reminder (update_every: 30m) is still ahead.
    assert "· @priya]" in out and "Time for an update: CR-1" in out
    first_item = chat.press("sam", "Done", 1)
    out = await chat.run("as sam", "click Done #1")
    assert "Ticked item 1 on CR-1's checklist; 7 to go." in out
    assert "✓ Confirm with the on-call engineer" in chat.card(1)
    assert "(done by Sam Okafor, 35m in)" in chat.card(1)
    assert "Checklist 1/8" in chat.card(1)
    # The same button pressed again (another screen, a retry) changes nothing.
    await chat.runtime.handle(first_item, chat.session)
    assert (
        "That checklist item is already done. Nothing was changed." in chat.session.transcript[-1]
    )
    out = await chat.run("as sam", "/crisis resolve")
    assert "Only a crisis lead or coach can run an incident." in out
    out = await chat.run("as priya", "click Resolve #1")
    assert "CR-1 is resolved. The post-incident summary is under its card." in out
    assert "SEV2 · Resolved after 35m · Checklist 1/8" in chat.card(1)
    assert "[Resolve]" not in chat.card(1)
    assert "[#1 · #hub, thread of #1]" not in out  # (a thread reply is a new card)
    assert "Resolved: CR-1 · Customer-facing service outage" in out
    assert "First acknowledgement: 5m" in out and "Checklist: 1 of 8 (12%)" in out
    stored = await incident(chat)
    assert stored.state is IncidentState.RESOLVED
    actions = [e.action for e in await chat.store.audit_log("incident:CR-1")]
    assert actions.count("incident.acknowledged") == 1
    assert actions[-1] == "incident.resolved"


async def test_unacknowledged_pages_escalate_once_each_step(chat: Chat) -> None:
    await chat.run(*DECLARE)
    out = await chat.run("advance 10m")
    assert "[#4 · @ada]" in out or "@ada]" in out
    assert "Escalation step 1" in out
    assert "Escalated" in chat.card(1)
    assert "Escalation step 1: not everyone needed acknowledged in time" in chat.card(1)
    await chat.run("advance 10m")
    stored = await incident(chat)
    steps = [e.detail for e in stored.timeline if e.what is Happened.ESCALATED]
    assert steps == ["step 1", "step 2"]
    paged = {p.person: p.times for p in stored.paged}
    # Maria: the first page and two reminders (max_repeats 2), nothing more.
    assert paged["maria"] == 3 and paged["ada"] >= 1 and paged["lee"] == 1
    await chat.run("advance 2h")
    assert (await incident(chat)).paged_person("maria").times == 3  # type: ignore[union-attr]
    assert [e.detail for e in (await incident(chat)).timeline if e.what is Happened.ESCALATED] == [
        "step 1",
        "step 2",
    ]


async def test_two_leads_declaring_at_once_get_one_incident(chat: Chat) -> None:
    await chat.run("as priya", "channel #hub")
    session = chat.session
    start = len(session.transcript)
    await asyncio.gather(
        chat.runtime.handle(form_submission(chat, "priya", "Payments down"), session),
        chat.runtime.handle(form_submission(chat, "maria", "AcmePay is down"), session),
    )
    await session.settle()
    said = "\n".join(session.transcript[start:])
    assert said.count("Declared CR-1") == 1
    # The loser is told which incident it is (declared, or still being stored).
    assert said.lower().count("nothing new was declared") == 1
    assert "CR-1 is being declared" in said or "declared CR-1 from this playbook" in said
    assert await chat.store.get(KIND, "CR-2") is None
    assert len(await chat.store.find(KIND, "open")) == 1
    # The same person submitting twice (a double click, a retry) is told it is theirs.
    out = await chat.run(
        '/crisis service-outage service=x status_url=https://status.acme.com "AcmePay down"'
    )
    assert "declared CR-1 from this playbook" in out
    assert await chat.store.get(KIND, "CR-2") is None


async def test_acknowledge_races_and_repeats_have_one_effect(chat: Chat) -> None:
    await chat.run(*DECLARE)
    session = chat.session
    click = chat.press("maria", "Acknowledge", 2)
    start = len(session.transcript)
    await asyncio.gather(
        *(chat.runtime.handle(replace(click, dedupe_key=f"c{n}"), session) for n in range(3))
    )
    await session.settle()
    said = "\n".join(session.transcript[start:])
    assert said.count("You acknowledged CR-1. The incident card shows it.") == 1
    assert said.count("You already acknowledged CR-1. Nothing was changed.") == 2
    log = await chat.store.audit_log("incident:CR-1")
    acks = [e for e in log if e.action == "incident.acknowledged"]
    assert [e.actor for e in acks] == ["maria"]
    # Someone who was not paged has nothing to acknowledge.
    lee = replace(
        click, actor=chat.runtime.settings.actor_for(chat.runtime.settings.people["lee"], "console")
    )
    await chat.runtime.handle(lee, session)
    assert "You were not paged for CR-1" in session.transcript[-1]


async def test_escalation_fires_once_with_two_processes_and_after_a_restart(
    chat: Chat, loaded: Loaded, store_backend: tuple[str, str]
) -> None:
    url, namespace = store_backend
    await chat.run(*DECLARE)
    other_store = open_store(url, namespace=namespace)
    other = await open_runtime(
        loaded, store=other_store, clock=chat.session.clock, platforms=["console"]
    )
    try:
        chat.session.clock.advance(timedelta(minutes=10))
        await asyncio.gather(chat.runtime.scheduler().tick(), other.scheduler().tick())
        await chat.session.settle()
    finally:
        await other_store.close()
    stored = await incident(chat)
    assert [e.detail for e in stored.timeline if e.what is Happened.ESCALATED] == ["step 1"]
    assert stored.paged_person("ada") is not None
    assert stored.paged_person("ada").times == 1  # type: ignore[union-attr]
    # A restart: the next step's timer is in the store, not in a process.
    from tests.conftest import open_chat

    await chat.store.close()
    again = await open_chat(url, namespace, loaded, person="priya")
    try:
        # (A new process's clock: step 2 is due 20 minutes after the declaration.)
        await again.run("advance 20m")
        stored = await incident(again)
        assert [e.detail for e in stored.timeline if e.what is Happened.ESCALATED] == [
            "step 1",
            "step 2",
        ]
        assert stored.paged_person("lee") is not None
    finally:
        await again.store.close()
        await chat.session.runtime.store.open()


async def test_a_statement_missing_a_variable_is_refused_at_declare(chat: Chat) -> None:
    out = await chat.run(
        "as priya", "channel #hub", "/crisis service-outage status_url=https://s.acme.com Down"
    )
    assert 'the holding statement "first" needs service' in out
    assert await chat.store.get(KIND, "CR-1") is None
    assert await chat.store.get("crisis_counter", "incidents") is None
    out = await chat.run("/crisis service-outage colour=red Down")
    assert "service-outage has no such variable (it has: service, status_url)" in out


async def test_people_without_the_role_are_refused_and_offered_nothing_broken(chat: Chat) -> None:
    out = await chat.run("as jo", "/crisis")
    assert "Only a crisis lead or coach can declare a crisis (anyone can /crisis raise" in out
    await chat.run(*DECLARE)
    out = await chat.run("as jo", "click Done #1")
    assert "can tick a checklist item" in out
    assert "Checklist 0/8" in chat.card(1)


async def test_notes_items_and_summaries_with_hostile_text_stay_inert(chat: Chat) -> None:
    hostile = "<!channel> @here *bold* [click](http://evil.example) <http://evil.example|x>"
    await chat.run(
        "as priya",
        "channel #hub",
        f"/crisis service-outage service=app status_url=https://s.acme.com {hostile}",
    )
    out = await chat.run(
        f"/crisis add {hostile}", f"/crisis CR-1 note {hostile}", "/crisis timeline"
    )
    said = "\n".join(line for line in out.splitlines() if not line.startswith("priya@"))
    assert "@here" not in said  # the broadcast is broken by a full-width at sign
    assert "Added item 9 to CR-1's checklist." in said
    assert "note: <!channel> ＠here *bold* [click](http://evil.example)" in said
    card = chat.card(1)
    assert "@here" not in card
    assert (
        "- <!channel> ＠here *bold* [click](http://evil.example) <http://evil.example|x> [Done]"
        in card
    )


async def test_list_and_status_show_open_incidents(chat: Chat) -> None:
    await chat.run(*DECLARE)
    out = await chat.run("as sam", "/crisis list")
    assert "Open incidents (1)" in out
    assert "CR-1 · Customer-facing service outage · SEV2 · declared" in out
    out = await chat.run("click Show")
    assert "only sam sees this]" in out and "CR-1 · Customer-facing service outage" in out
    out = await chat.run("/crisis CR-9 status")
    assert "There is no incident CR-9." in out


async def test_postmortem_prints_the_summary_as_inert_markdown(
    chat: Chat,
    loaded: Loaded,
    store_backend: tuple[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await chat.run(*DECLARE)
    await chat.run("as maria", "advance 3m", "click Acknowledge #2")
    await chat.run("as priya", "/crisis note Status page says **all good** <!here>", "advance 7m")
    await chat.run("/crisis resolve")
    from bot import postmortem

    url, namespace = store_backend
    status = await postmortem.main(loaded, open_store(url, namespace=namespace), "cr-1", None)
    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith("# CR-1: Customer\\-facing service outage")
    assert "| Duration | 10m |" in out
    assert "| Time to first acknowledgement | 3m |" in out
    assert "- Maria Lopez at 09:03 (3m after declaration)" in out
    assert "Status page says \\*\\*all good\\*\\* &lt;\\!here&gt;" in out
    target = tmp_path / "cr-1.md"
    status = await postmortem.main(
        loaded, open_store(url, namespace=namespace), "CR-1", str(target)
    )
    assert status == 0 and target.read_text(encoding="utf-8").startswith("# CR-1")
    status = await postmortem.main(loaded, open_store(url, namespace=namespace), "CR-7", None)
    assert status == 2 and "there is no incident 'CR-7'" in capsys.readouterr().err


async def test_the_lead_is_reminded_to_post_updates_until_resolved(chat: Chat) -> None:
    await chat.run(*DECLARE, "as maria", "click Acknowledge #2", "as priya")
    out = await chat.run("advance 30m")
    assert "Time for an update: CR-1 · Customer-facing service outage" in out
    assert "CR-1 has been open for 30m. Post an update" in out
    # The bot was down for two hours: one reminder, not four.
    chat.session.clock.advance(timedelta(hours=2))
    out = await chat.run("advance 1s")
    assert out.count("Time for an update") == 1 and "open for 2h 30m" in out
    await chat.run("/crisis resolve")
    out = await chat.run("advance 3h")
    assert "Time for an update" not in out
    assert not await chat.store.pending_timers("crisis.escalate:")
    log = await chat.store.audit_log("incident:CR-1")
    assert [e.actor for e in log if e.action == "incident.update_reminder"] == ["system", "system"]


async def test_anyone_may_raise_and_a_lead_declares_or_dismisses(chat: Chat) -> None:
    out = await chat.run("as jo", "channel @jo", "/crisis")
    assert "Only a crisis lead or coach can declare a crisis (anyone can /crisis raise" in out
    out = await chat.run("/crisis raise AcmePay payments fail, people are furious <!here>")
    assert "Raised with the crisis leads" in out
    assert "Possible crisis raised by Jo Martin" in out and "[Declare] [Dismiss]" in out
    assert "> AcmePay payments fail, people are furious <!here>" in out
    raised = max(chat.session.shown)
    out = await chat.run(f"click Declare #{raised}")
    assert "Only a crisis lead or coach can decide whether a raised situation is a crisis." in out
    out = await chat.run("as priya", "channel #hub", f"click Declare #{raised}")
    assert "[form · Declare a crisis]" in out
    out = await chat.run(
        "fill playbook=service-outage var_service=AcmePay var_status_url=https://s.acme.com",
        "submit",
    )
    assert "Declared CR-1 · Customer-facing service outage." in out
    assert "AcmePay payments fail, people are furious" in chat.card(raised)
    assert "Declared as CR-1 by Priya Raman" in chat.card(raised)
    assert "[Declare]" not in chat.card(raised)
    assert "Priya Raman declared what you raised a crisis: CR-1." in out
    assert (await incident(chat)).summary == "AcmePay payments fail, people are furious <!here>"
    # A second raise, dismissed; a late click on it changes nothing.
    await chat.run("as jo", "/crisis raise Someone posted a rude meme")
    second = max(chat.session.shown)
    late = chat.press("priya", "Dismiss", second)
    out = await chat.run("as maria", f"click Dismiss #{second}")
    assert "Dismissed. The person who raised it is told." in out
    assert "decided it is not a crisis" in out
    assert "Dismissed by Maria Lopez" in chat.card(second)
    await chat.runtime.handle(late, chat.session)
    assert "Maria Lopez already dismissed it. Nothing was changed." in chat.session.transcript[-1]


async def test_pages_the_store_holds_are_sent_after_a_crash(
    chat: Chat, loaded: Loaded, store_backend: tuple[str, str]
) -> None:
    from bot.core.events import Command
    from tests.conftest import open_chat

    settings = chat.runtime.settings
    # The declaration is committed, then the process dies before its outbox is sent.
    await chat.runtime.handle(
        Command(
            platform="console",
            actor=settings.actor_for(settings.people["priya"], "console"),
            received_at=START,
            platform_channel="#hub",
            name="crisis",
            text="service-outage service=AcmePay status_url=https://s.acme.com Payments fail",
        ),
        chat.session,
    )
    assert await chat.store.outbox_size("console") >= 2
    url, namespace = store_backend
    await chat.store.close()
    again = await open_chat(url, namespace, loaded, person="priya")
    try:
        await again.session.settle()
        shown = {s.place: s.card.title for s in again.session.shown.values()}
        assert shown["#hub"].startswith("CR-1 · Customer-facing service outage")
        assert shown["@maria"] == "You are paged: CR-1 · Customer-facing service outage"
        assert await again.store.outbox_size("console") == 0
    finally:
        await again.store.close()
        await chat.store.open()


async def test_the_lead_pages_someone_the_playbook_did_not_name(chat: Chat) -> None:
    await chat.run(*DECLARE)
    out = await chat.run("as sam", "click Page someone #1")
    assert "Only a crisis lead or coach can run an incident." in out
    out = await chat.run("as priya", "click Page someone #1")
    assert "[form · Page someone for CR-1]" in out
    # Everyone who has not acknowledged (Priya declared it: she has).
    assert "person: Who [required] one of: maria | sam | alex | lee | jo | ada" in out
    out = await chat.run("fill person=lee", "submit")
    assert "Paged Lee Novak for CR-1." in out
    assert "· @lee]" in out and "You are paged: CR-1" in out
    assert "Lee Novak (chat): just paged" in chat.card(1)
    out = await chat.run("as lee", "click Acknowledge")
    assert "You acknowledged CR-1." in out
    stored = await incident(chat)
    assert "CR-1:lee:s0:m1" in stored.pages_sent
    # Escalation still waits for the coach the playbook requires; Lee's page is not repeated.
    out = await chat.run("advance 5m")
    assert "@maria]" in out and "@lee]" not in out
