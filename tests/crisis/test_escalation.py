"""The escalation plan: every page once, steps in order, repeats bounded,
nothing more once every required target has acknowledged."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

from bot.core.model import Role
from bot.core.playbook import EscalationStep, Playbook, Target
from bot.core.settings import Settings
from handlers.crisis import escalation
from handlers.crisis.escalation import DuePage, next_due, pages_due, plan, reminder_due
from tests.conftest import START

MIN = timedelta(minutes=1)


def outage(playbooks: dict[str, Playbook]) -> Playbook:
    # crisis_lead + coach paged, ack within 5m, admin after 10m, legal after 20m, 2 repeats
    return playbooks["service-outage"]


def test_declaration_pages_the_playbook_list_and_nothing_else(
    playbooks: dict[str, Playbook], settings: Settings
) -> None:
    p = plan(outage(playbooks), "CR-1", START, settings.people)
    due = pages_due(p, acks=(), sent=(), now=START)
    assert [(d.person, d.step, d.repeat) for d in due] == [("maria", 0, 0), ("priya", 0, 0)]
    assert due[0].id == "CR-1:maria:s0:r0"
    assert next_due(p, (), {d.id for d in due}) == START + 5 * MIN


def test_the_timeline_of_an_unanswered_crisis(
    playbooks: dict[str, Playbook], settings: Settings
) -> None:
    p = plan(outage(playbooks), "CR-1", START, settings.people)
    sent: set[str] = set()
    fired: list[tuple[int, str, int, int]] = []
    minute = 0
    while (when := next_due(p, (), sent)) is not None:
        for page in pages_due(p, (), sent, when):
            fired.append((int((page.at - START) / MIN), page.person, page.step, page.repeat))
            sent.add(page.id)
        minute += 1
        assert minute < 100
    assert fired == [
        (0, "maria", 0, 0),
        (0, "priya", 0, 0),
        (5, "maria", 0, 1),
        (5, "priya", 0, 1),
        (10, "maria", 0, 2),
        (10, "priya", 0, 2),
        (10, "ada", 1, 0),
        (15, "ada", 1, 1),
        (20, "ada", 1, 2),
        (20, "lee", 2, 0),
        (25, "lee", 2, 1),
        (30, "lee", 2, 2),
    ]


def test_a_colleague_with_the_role_satisfies_the_target(
    playbooks: dict[str, Playbook], settings: Settings
) -> None:
    book = replace(outage(playbooks), page=(Target(role=Role.COACH), Target(person="priya")))
    people = dict(settings.people)
    people["kim"] = replace(people["maria"], id="kim", name="Kim")
    p = plan(book, "CR-2", START, people)
    first = pages_due(p, (), (), START)
    assert {d.person for d in first} == {"maria", "kim", "priya"}
    sent = {d.id for d in first}
    # Kim (a coach) acknowledges: Maria is not paged again, Priya is.
    again = pages_due(p, {"kim"}, sent, START + 5 * MIN)
    assert [d.person for d in again] == ["priya"]
    # Priya acknowledges too: all required targets are satisfied, nothing more is due.
    assert escalation.satisfied(p, {"kim", "priya"})
    assert pages_due(p, {"kim", "priya"}, sent, START + timedelta(hours=3)) == []
    assert next_due(p, {"kim", "priya"}, sent) is None


def test_a_late_timer_sends_each_page_once_and_skips_what_acks_made_moot(
    playbooks: dict[str, Playbook], settings: Settings
) -> None:
    p = plan(outage(playbooks), "CR-3", START, settings.people)
    sent = {d.id for d in pages_due(p, (), (), START)}
    # The process was down for an hour; Priya acknowledged in between.
    late = pages_due(p, {"priya"}, sent, START + timedelta(hours=1))
    assert all(d.person != "priya" for d in late)
    assert escalation.steps_fired(late) == (1, 2)
    ids = [d.id for d in late]
    assert len(ids) == len(set(ids))
    assert pages_due(p, {"priya"}, sent | set(ids), START + timedelta(hours=1)) == []


def test_a_target_that_reaches_nobody_does_not_hold_escalation_open(
    playbooks: dict[str, Playbook], settings: Settings
) -> None:
    book = replace(
        outage(playbooks), page=(Target(role=Role.CRISIS_LEAD), Target(role=Role.RESPONDER))
    )
    people = {k: v for k, v in settings.people.items() if Role.RESPONDER not in v.roles}
    p = plan(book, "CR-4", START, people)
    assert escalation.satisfied(p, {"priya"})
    assert escalation.unsatisfied_targets(p, ()) == (Target(role=Role.CRISIS_LEAD),)


def test_property_every_page_once_bounded_and_stops_when_satisfied(
    playbooks: dict[str, Playbook], settings: Settings
) -> None:
    rng = random.Random(20261130)
    for _ in range(200):
        steps = tuple(
            EscalationStep(
                timedelta(minutes=m),
                (Target(role=rng.choice([Role.ADMIN, Role.LEGAL, Role.COACH])),),
            )
            for m in sorted(rng.sample(range(1, 60), rng.randint(0, 3)))
        )
        book = replace(
            outage(playbooks),
            escalation=steps,
            ack_within=timedelta(minutes=rng.randint(1, 10)),
            max_repeats=rng.randint(0, 4),
        )
        p = plan(book, "CR-9", START, settings.people)
        ack_times = {
            person: START + timedelta(minutes=rng.randint(0, 90))
            for person in settings.people
            if rng.random() < 0.5
        }
        sent: dict[str, DuePage] = {}
        now = START
        for _ in range(rng.randint(1, 15)):
            now += timedelta(minutes=rng.randint(0, 20))
            paged = {pg.person for pg in sent.values()}
            acks = {person for person, at in ack_times.items() if at <= now and person in paged}
            for page in pages_due(p, acks, sent, now):
                assert page.id not in sent
                assert page.at <= now
                assert page.repeat <= book.max_repeats
                assert page.person not in acks
                if page.step or page.repeat:
                    assert not escalation.satisfied(p, acks)
                sent[page.id] = page
        paged = {pg.person for pg in sent.values()}
        acks = {person for person, at in ack_times.items() if at <= now and person in paged}
        if not escalation.satisfied(p, acks):
            # Every step that fell due while unanswered has fired.
            for wave in p.waves:
                if wave.at <= now:
                    for person in wave.people:
                        fired = f"CR-9:{person}:s{wave.step}:r0" in sent
                        assert fired or person in acks
        per_step = {(pg.person, pg.step) for pg in sent.values() if pg.repeat == 0}
        assert len(per_step) == sum(1 for pg in sent.values() if pg.repeat == 0)


def test_update_reminders_collapse_missed_ones() -> None:
    every = timedelta(minutes=30)
    assert reminder_due(START, None, (), START + timedelta(hours=5)) is None
    assert reminder_due(START, every, (), START + 29 * MIN) is None
    assert reminder_due(START, every, (), START + 30 * MIN) == 1
    assert reminder_due(START, every, {"update:1"}, START + 45 * MIN) is None
    assert reminder_due(START, every, {"update:1"}, START + timedelta(hours=3, minutes=5)) == 6
