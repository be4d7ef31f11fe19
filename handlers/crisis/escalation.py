"""The escalation plan: which pages are due when, as a pure function of the
playbook, the declaration time, who acknowledged and which pages were sent.

* Wave 0 (the playbook's ``page`` list) is paged at declaration. Its targets
  are the *required* ones: a role target is satisfied when anyone reached by
  it acknowledges, a person target when that person does.
* Wave ``n`` (escalation step ``n``) is paged at ``declared_at + after``,
  only while some required target is unsatisfied; each step fires once.
* Anyone paged and not acknowledged is paged again every ``ack_within``
  after their wave, at most ``max_repeats`` times, while escalation is
  active; a wave-0 person whose targets are all satisfied (a colleague with
  the role acknowledged) is not paged again.
* When every required target is satisfied, nothing more is due.

Every page has a deterministic id ``<incident>:<person>:s<step>:r<repeat>``;
a page whose id is in ``sent`` is never due again, which is what makes each
page happen once across retries, restarts and several processes (the
incident's compare-and-set records the id with the send).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.model import Person
from bot.core.playbook import Playbook, Target


@dataclass(frozen=True)
class DuePage:
    incident: str
    person: str
    step: int
    repeat: int
    at: datetime

    @property
    def id(self) -> str:
        return f"{self.incident}:{self.person}:s{self.step}:r{self.repeat}"


@dataclass(frozen=True)
class Wave:
    step: int
    at: datetime
    targets: tuple[tuple[Target, tuple[str, ...]], ...]  # each target with the people it reaches

    @property
    def people(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for _, people in self.targets for p in people))


@dataclass(frozen=True)
class EscalationPlan:
    incident: str
    waves: tuple[Wave, ...]
    ack_within: timedelta
    max_repeats: int

    @property
    def required(self) -> tuple[tuple[Target, tuple[str, ...]], ...]:
        # A target that reaches nobody cannot acknowledge; waiting on it would
        # escalate every crisis to the end, so it is left out.
        return tuple((t, people) for t, people in self.waves[0].targets if people)


def plan(
    playbook: Playbook, incident: str, declared_at: datetime, people: Mapping[str, Person]
) -> EscalationPlan:
    """The plan for ``incident``, with roles resolved to the people holding them now."""
    waves = [Wave(0, declared_at, tuple((t, t.people(people)) for t in playbook.page))]
    for number, step in enumerate(playbook.escalation, start=1):
        targets = tuple((t, t.people(people)) for t in step.page)
        waves.append(Wave(number, declared_at + step.after, targets))
    return EscalationPlan(incident, tuple(waves), playbook.ack_within, playbook.max_repeats)


def satisfied(plan: EscalationPlan, acks: Collection[str]) -> bool:
    """Has every required target acknowledged?"""
    return all(any(p in acks for p in people) for _, people in plan.required)


def unsatisfied_targets(plan: EscalationPlan, acks: Collection[str]) -> tuple[Target, ...]:
    return tuple(t for t, people in plan.required if not any(p in acks for p in people))


def _candidates(plan: EscalationPlan, acks: Collection[str]) -> list[DuePage]:
    """Every page still wanted given ``acks``, whenever it is due."""
    active = not satisfied(plan, acks)
    wanted = []
    for wave in plan.waves:
        for person in wave.people:
            for repeat in range(plan.max_repeats + 1):
                first = wave.step == 0 and repeat == 0
                if not first and (not active or person in acks):
                    continue
                if wave.step == 0 and repeat > 0 and _covered(wave, person, acks):
                    continue
                at = wave.at + plan.ack_within * repeat
                wanted.append(DuePage(plan.incident, person, wave.step, repeat, at))
    return wanted


def _covered(wave: Wave, person: str, acks: Collection[str]) -> bool:
    mine = [people for _, people in wave.targets if person in people]
    return all(any(p in acks for p in people) for people in mine)


def pages_due(
    plan: EscalationPlan, acks: Collection[str], sent: Collection[str], now: datetime
) -> list[DuePage]:
    """Pages due at ``now`` and not yet sent, oldest first."""
    due = [p for p in _candidates(plan, acks) if p.at <= now and p.id not in sent]
    return sorted(due, key=lambda p: (p.at, p.step, p.repeat, p.person))


def next_due(plan: EscalationPlan, acks: Collection[str], sent: Collection[str]) -> datetime | None:
    """When the next unsent page falls due (the incident's timer), or ``None``."""
    times = [p.at for p in _candidates(plan, acks) if p.id not in sent]
    return min(times) if times else None


def steps_fired(pages: Collection[DuePage]) -> tuple[int, ...]:
    """Escalation steps (not wave 0) whose first page is among ``pages``."""
    return tuple(sorted({p.step for p in pages if p.step > 0 and p.repeat == 0}))


def reminder_due(
    declared_at: datetime, update_every: timedelta | None, sent: Collection[str], now: datetime
) -> int | None:
    """The number of the latest update reminder due at ``now`` and not yet
    sent (ids ``update:<n>``), or ``None``. Missed reminders collapse into the
    latest: after a long outage the lead gets one nudge, not a pile."""
    if update_every is None or now < declared_at + update_every:
        return None
    latest = (now - declared_at) // update_every
    return latest if f"update:{latest}" not in sent else None
