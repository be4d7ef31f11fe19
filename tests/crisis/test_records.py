"""Incidents in a real store (SQLite and Redis): the record round-trips,
the tags find open incidents, and a double acknowledgement lands once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.core.playbook import Playbook
from bot.core.settings import Settings
from bot.core.storage import Store
from bot.statements import SandboxedStatements
from bot.store import open_store
from handlers.crisis import rules
from handlers.crisis.incident import Happened, Incident
from handlers.crisis.records import KIND, from_record, to_record
from handlers.crisis.rules import Refusal
from tests.conftest import START
from tests.crisis.test_summary import story


@pytest.fixture
async def store(store_backend: tuple[str, str]) -> AsyncIterator[Store]:
    url, namespace = store_backend
    opened = open_store(url, namespace=namespace)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


async def test_an_incident_round_trips_through_the_store(
    store: Store, playbooks: dict[str, Playbook], settings: Settings
) -> None:
    incident = story(playbooks, settings)
    written = await store.insert(to_record(incident))
    assert written.ok
    stored = await store.get(KIND, "CR-7")
    assert stored is not None and stored.version == 1
    again = from_record(stored)
    assert again.version == 1
    assert again == replace(incident, version=1)
    assert not await store.find(KIND, "open:spoke:care")
    assert [r.key for r in await store.find(KIND, "state:resolved")] == ["CR-7"]


async def test_open_incidents_are_found_by_spoke_and_playbook(
    store: Store, playbooks: dict[str, Playbook], settings: Settings
) -> None:
    incident = rules.declare(
        3,
        playbooks["misconduct-viral"],
        summary="Clip of a manager shouting",
        lead="priya",
        declared_by="priya",
        variables={"subject": "a clip", "where": "a store"},
        accounts=settings.accounts,
        renderer=SandboxedStatements(),
        now=START,
    )
    assert (await store.insert(to_record(incident))).ok
    for tag in (
        "open",
        "open:spoke:talent",
        "open:account:acme-careers",
        "open:playbook:misconduct-viral",
    ):
        assert [r.key for r in await store.find(KIND, tag)] == ["CR-3"], tag


async def test_two_acknowledgements_at_once_land_once(
    store: Store, playbooks: dict[str, Playbook], settings: Settings
) -> None:
    declared = rules.declare(
        7,
        playbooks["data-incident"],
        summary="Leak claims",
        lead="priya",
        declared_by="priya",
        variables={"topic": "a list"},
        accounts=settings.accounts,
        renderer=SandboxedStatements(),
        now=START,
    )
    incident = rules.record_page(
        declared,
        person="lee",
        page_id="CR-7:lee:s2:r0",
        step=2,
        channels=("chat",),
        now=START,
    )
    assert isinstance(incident, Incident)
    assert (await store.insert(to_record(incident))).ok

    async def acknowledge(at: timedelta) -> str:
        while True:
            current = await store.get(KIND, "CR-7")
            assert current is not None
            result = rules.acknowledge(from_record(current), "lee", START + at)
            if isinstance(result, Refusal):
                return result.reason
            written = await store.replace(to_record(result), current.version)
            if written.ok:
                return "acknowledged"

    outcomes = await asyncio.gather(*(acknowledge(timedelta(seconds=s)) for s in (40, 41, 42)))
    assert sorted(outcomes) == ["acknowledged", "already_acknowledged", "already_acknowledged"]
    stored = await store.get(KIND, "CR-7")
    assert stored is not None
    final = from_record(stored)
    acks = [e for e in final.timeline if e.what is Happened.ACKNOWLEDGED and e.actor == "lee"]
    assert len(acks) == 1 and final.acks()["lee"] == acks[0].at
