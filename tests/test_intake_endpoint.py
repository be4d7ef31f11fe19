"""``POST /intake`` over real HTTP on loopback, on both stores."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

import handlers.surge
import handlers.triage
from bot.app import Loaded, open_runtime
from bot.core.clock import ManualClock
from bot.core.errors import InvalidInput
from bot.core.storage import Store
from bot.intake.endpoint import DEFAULT_MAX_BYTES, IntakeSettings
from bot.intake.stream import GROUP, StreamConsumer, StreamSettings, stream_of
from bot.signing import sign
from bot.store import open_store
from bot.web import create_app
from handlers.triage.records import KIND
from tests.conftest import REDIS_URL, START, _wipe_redis_namespace, require_redis

SECRET = "intake-test-secret"
LIMIT = 20_000


@dataclass
class Intake:
    server: TestServer
    store: Store
    clock: ManualClock
    # Through the intake stream (Redis): each answered post is then admitted
    # by this consumer, as a serve process's would.
    consumer: StreamConsumer | None = None

    @property
    def url(self) -> str:
        return str(self.server.make_url("/intake"))

    def now(self) -> int:
        return int(self.clock.now().timestamp())

    async def post(
        self,
        body: bytes,
        *,
        content_type: str = "application/json",
        secret: str = SECRET,
        timestamp: int | None = None,
        signed_body: bytes | None = None,
        headers: dict[str, str] | None = None,
        query: str = "",
    ) -> tuple[int, Any]:
        ts = self.now() if timestamp is None else timestamp
        sent = {
            "Content-Type": content_type,
            "X-Playcaller-Timestamp": str(ts),
            "X-Playcaller-Signature": sign(
                secret, ts, body if signed_body is None else signed_body
            ),
        }
        if headers is not None:
            sent = headers
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.url + query, data=body, headers=sent) as response,
        ):
            answer = response.status, await response.json()
        if self.consumer is not None:
            while await self.consumer.step():
                pass
        return answer

    async def keys(self) -> set[str]:
        return {r.key for r in await self.store.find(KIND, "state:open", limit=1000)}


@pytest.fixture(params=["sqlite", "redis", "redis-stream"])
async def intake_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, str, bool]]:
    """(store URL, namespace, through the intake stream): Redis runs every test
    both ways; SQLite has no stream."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'playcaller.db'}", "playcaller", False
        return
    require_redis()
    namespace = f"test-{uuid.uuid4().hex}"
    yield REDIS_URL, namespace, request.param == "redis-stream"
    await _wipe_redis_namespace(namespace)


@pytest.fixture
async def intake(intake_store: tuple[str, str, bool], loaded: Loaded) -> AsyncIterator[Intake]:
    url, namespace, through_stream = intake_store
    clock = ManualClock(START)
    runtime = await open_runtime(
        loaded, store=open_store(url, namespace=namespace), clock=clock, platforms=["console"]
    )
    # The app only accepts; the test's consumer admits after each answer.
    streamed = StreamSettings(consume=False) if through_stream else None
    app = create_app(runtime, [], intake=IntakeSettings(SECRET, max_bytes=LIMIT, stream=streamed))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    consumer = None
    if streamed is not None:
        stream = stream_of(runtime)
        assert stream is not None
        consumer = StreamConsumer(runtime, stream, streamed)
    try:
        yield Intake(server, runtime.store, clock, consumer)
    finally:
        await server.close()


def mention(n: int, **changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "network": "x",
        "id": f"post-{n}",
        "text": f"@acme my order {n} never arrived",
        "created_at": "2026-03-02T08:59:00Z",
        "author": {"handle": f"user{n}", "followers": 10},
    }
    item.update(changes)
    return item


def ndjson(items: list[Any]) -> bytes:
    return b"".join(json.dumps(i).encode() + b"\n" for i in items)


async def test_one_signed_object_is_stored_with_its_card(intake: Intake) -> None:
    status, answer = await intake.post(json.dumps(mention(1)).encode())
    assert status == 200
    assert answer == {
        "stored": 1,
        "duplicate": 0,
        "refused": 0,
        "items": [{"item": 1, "status": "stored", "network": "x", "id": "post-1"}],
    }
    assert await intake.keys() == {"x:post-1"}
    assert await intake.store.outbox_size("console") == 1


async def test_a_mixed_array_stores_the_good_items_and_names_the_bad_fields(
    intake: Intake,
) -> None:
    batch = [mention(1), mention(2, author={"name": "no handle"}), "text", mention(3, id="")]
    status, answer = await intake.post(json.dumps(batch).encode())
    assert status == 200
    assert (answer["stored"], answer["duplicate"], answer["refused"]) == (1, 0, 3)
    refused = {i["item"]: i["field"] for i in answer["items"] if i["status"] == "refused"}
    assert refused == {2: "author.handle", 3: "(item)", 4: "id"}
    assert await intake.keys() == {"x:post-1"}


async def test_ndjson_refuses_a_broken_line_and_keeps_the_rest(intake: Intake) -> None:
    body = ndjson([mention(1)]) + b'{"network": "x", "id": \n\n' + ndjson([mention(2)])
    status, answer = await intake.post(body, content_type="application/x-ndjson")
    assert status == 200
    assert [(i["item"], i["status"]) for i in answer["items"]] == [
        (1, "stored"),
        (2, "refused"),
        (4, "stored"),
    ]
    assert answer["items"][1]["field"] == "(json)"
    assert await intake.keys() == {"x:post-1", "x:post-2"}


async def test_a_resent_batch_stores_nothing_twice(intake: Intake) -> None:
    body = ndjson([mention(n) for n in range(5)] + [mention(0)])
    _, first = await intake.post(body, content_type="application/x-ndjson")
    assert (first["stored"], first["duplicate"]) == (5, 1)
    _, again = await intake.post(body, content_type="application/x-ndjson")
    assert (again["stored"], again["duplicate"]) == (0, 6)
    assert len(await intake.keys()) == 5
    assert await intake.store.outbox_size("console") == 5


@pytest.mark.parametrize(
    "case",
    ["unsigned", "stale", "future", "altered", "wrong secret", "garbage timestamp"],
)
async def test_a_badly_signed_request_is_401_and_stores_nothing(intake: Intake, case: str) -> None:
    body = json.dumps(mention(1)).encode()
    now = intake.now()
    if case == "unsigned":
        status, answer = await intake.post(body, headers={"Content-Type": "application/json"})
    elif case == "stale":
        status, answer = await intake.post(body, timestamp=now - 301)
    elif case == "future":
        status, answer = await intake.post(body, timestamp=now + 301)
    elif case == "altered":
        status, answer = await intake.post(body, signed_body=body.replace(b"post-1", b"post-2"))
    elif case == "wrong secret":
        status, answer = await intake.post(body, secret="not-the-secret")
    else:
        status, answer = await intake.post(
            body,
            headers={"X-Playcaller-Timestamp": "soon", "X-Playcaller-Signature": "v1=00"},
        )
    assert status == 401
    assert answer["error"].startswith("not signed correctly")
    assert await intake.keys() == set()
    assert await intake.store.counts("intake.") == {}


async def test_the_window_is_five_minutes_either_way(intake: Intake) -> None:
    status, _ = await intake.post(json.dumps(mention(1)).encode(), timestamp=intake.now() - 300)
    assert status == 200
    intake.clock.advance(timedelta(minutes=10))
    status, _ = await intake.post(json.dumps(mention(2)).encode(), timestamp=intake.now() - 600)
    assert status == 401
    assert await intake.keys() == {"x:post-1"}


async def test_a_body_over_the_limit_is_413_declared_or_streamed(intake: Intake) -> None:
    big = ndjson([mention(n, text="x" * 900) for n in range(30)])
    assert len(big) > LIMIT
    status, answer = await intake.post(big, content_type="application/x-ndjson")
    assert status == 413
    assert str(LIMIT) in answer["error"]

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 4096):
            yield big[start : start + 4096]

    ts = intake.now()
    headers = {
        "Content-Type": "application/x-ndjson",
        "X-Playcaller-Timestamp": str(ts),
        "X-Playcaller-Signature": sign(SECRET, ts, big),
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(intake.url, data=chunks(), headers=headers) as response,
    ):
        assert response.status == 413
    assert await intake.keys() == set()


async def test_a_body_that_is_not_json_is_400_naming_the_problem(intake: Intake) -> None:
    status, answer = await intake.post(b"{not json")
    assert status == 400
    assert answer["field"] == "(json)"
    status, answer = await intake.post(b'"just a string"')
    assert (status, answer["field"]) == (400, "(body)")
    status, answer = await intake.post(b"\xff\xfe{}")
    assert (status, answer["field"]) == (400, "(encoding)")
    assert await intake.keys() == set()


async def test_intake_outcomes_reach_the_metrics(intake: Intake) -> None:
    batch = [mention(1), mention(1), {"network": "x"}]
    await intake.post(json.dumps(batch).encode())
    async with (
        aiohttp.ClientSession() as http,
        http.get(intake.server.make_url("/metrics")) as response,
    ):
        text = await response.text()
    for outcome in ("stored", "duplicate", "refused"):
        assert f'playcaller_intake_mentions_total{{outcome="{outcome}"}} 1.0' in text


async def test_without_a_secret_there_is_no_intake_route(loaded: Loaded, tmp_path: Any) -> None:
    assert IntakeSettings.from_env({}) is None
    runtime = await open_runtime(
        loaded,
        store=open_store(f"sqlite:///{tmp_path / 'p.db'}", namespace="playcaller"),
        clock=ManualClock(START),
        platforms=["console"],
    )
    server = TestServer(create_app(runtime, []), host="127.0.0.1")
    await server.start_server()
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(server.make_url("/intake"), data=b"{}") as response,
        ):
            assert response.status == 404
    finally:
        await server.close()


def test_intake_settings_come_from_the_environment() -> None:
    settings = IntakeSettings.from_env({"PLAYCALLER_INTAKE_SECRET": "s3cret"})
    assert settings is not None
    assert settings.max_bytes == DEFAULT_MAX_BYTES == 5 * 1024 * 1024
    assert "s3cret" not in repr(settings)
    sized = IntakeSettings.from_env(
        {"PLAYCALLER_INTAKE_SECRET": "s", "PLAYCALLER_INTAKE_MAX_BYTES": "1000"}
    )
    assert sized is not None and sized.max_bytes == 1000
    with pytest.raises(InvalidInput, match="PLAYCALLER_INTAKE_MAX_BYTES"):
        IntakeSettings.from_env(
            {"PLAYCALLER_INTAKE_SECRET": "s", "PLAYCALLER_INTAKE_MAX_BYTES": "5M"}
        )


async def test_a_source_query_normalizes_network_payloads(intake: Intake) -> None:
    from tests.test_intake_sources import fixture, x_post_with_author

    status = fixture("mastodon_status.json")
    body = json.dumps([status, {"uri": "no created_at"}]).encode()
    _, answer = await intake.post(body)
    assert answer["refused"] == 2  # not in the intake format
    _, answer = await intake.post(body, query="?source=mastodon")
    assert [(i["item"], i["status"]) for i in answer["items"]] == [(1, "stored"), (2, "refused")]
    assert answer["items"][1]["field"] == "created_at"
    x_line = {"source": "x", **x_post_with_author()}
    _, answer = await intake.post(ndjson([x_line]), content_type="application/x-ndjson")
    assert answer["stored"] == 1
    assert await intake.keys() == {"mastodon:" + status["uri"], "x:1234567890"}


async def test_an_unknown_source_query_is_400_after_the_signature(intake: Intake) -> None:
    status, answer = await intake.post(b"{}", query="?source=orkut")
    assert (status, answer["field"]) == (400, "source")
    status, _ = await intake.post(b"{}", query="?source=orkut", secret="wrong")
    assert status == 401


async def test_a_signed_feed_body_and_network_sources_over_http(intake: Intake) -> None:
    from tests.test_intake_sources import FIXTURES, fixture

    rss = (FIXTURES / "rss_feed.xml").read_bytes()
    status, answer = await intake.post(rss, content_type="application/rss+xml")
    assert status == 200
    assert [(i["status"], i.get("field")) for i in answer["items"]] == [
        ("stored", None),
        ("stored", None),
        ("refused", "entries[2].published"),
    ]
    status, _ = await intake.post(rss, content_type="application/rss+xml", secret="wrong")
    assert status == 401
    youtube = json.dumps(fixture("youtube_comment_threads.json")).encode()
    _, answer = await intake.post(youtube, query="?source=youtube")
    assert (answer["stored"], answer["refused"]) == (3, 0)
    _, again = await intake.post(youtube, query="?source=youtube")
    assert (again["stored"], again["duplicate"]) == (0, 3)
    assert "youtube:UgzX4kL2b8oQe1HrAvB4AaABAg" in await intake.keys()
    assert "rss:travelwire-2026-11-30-0412" in await intake.keys()


async def test_half_an_emoji_is_repaired_and_every_item_stored(intake: Intake) -> None:
    """A text (or author name) holding a lone surrogate as a JSON escape is
    legal JSON the store cannot encode: it is stored with U+FFFD in its place,
    and the rest of the request with it."""
    batch = [
        mention(1),
        mention(2, text="hi \ud83d there \U0001f600"),
        mention(3, author={"handle": "user3", "name": "Ann \udc00"}, url="https://x.test/\ud800"),
        mention(4, extra_field={"note": ["odd \udfff"]}),
    ]
    body = json.dumps(batch).encode()
    assert b"\\ud83d" in body
    status, answer = await intake.post(body)
    assert status == 200
    assert (answer["stored"], answer["duplicate"], answer["refused"]) == (4, 0, 0)
    stored = {r.key: r.data for r in await intake.store.find(KIND, "state:open", limit=10)}
    assert set(stored) == {f"x:post-{n}" for n in range(1, 5)}
    assert stored["x:post-2"]["text"] == "hi \ufffd there \U0001f600"
    assert stored["x:post-3"]["author"]["name"] == "Ann \ufffd"
    assert stored["x:post-3"]["url"] == "https://x.test/\ufffd"
    assert stored["x:post-4"]["extra"] == {"extra_field": {"note": ["odd \ufffd"]}}


async def test_a_failing_surge_check_after_the_insert_still_answers_what_was_stored(
    intake: Intake, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The spike and surge check runs after the batch's insert has committed:
    # its failure must not turn "stored" into a 500 the client would re-send.
    async def stored(*args: Any) -> None:
        raise RuntimeError("surge state unreadable")

    monkeypatch.setattr(handlers.surge, "stored", stored)
    caplog.set_level(logging.WARNING)
    body = ndjson([mention(n) for n in range(4)])
    status, answer = await intake.post(body, content_type="application/x-ndjson")
    assert status == 200
    assert [i["status"] for i in answer["items"]] == ["stored"] * 4
    assert await intake.keys() == {f"x:post-{n}" for n in range(4)}
    assert await intake.store.outbox_size("console") == 4
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].startswith("surge and spike check after storing 4 mentions failed")
    _, again = await intake.post(body, content_type="application/x-ndjson")
    assert (again["stored"], again["duplicate"]) == (0, 4)


async def test_a_mention_whose_admission_fails_is_refused_alone(
    intake: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = handlers.triage.admission

    def admission(turn: Any, mention: Any, **options: Any) -> Any:
        if mention.external_id == "post-2":
            raise ValueError("this mention breaks its card")
        return real(turn, mention, **options)

    monkeypatch.setattr(handlers.triage, "admission", admission)
    body = ndjson([mention(n) for n in range(4)])
    status, answer = await intake.post(body, content_type="application/x-ndjson")
    assert status == 200
    if intake.consumer is not None:
        # Through the stream /intake only accepts; the consumer admits later.
        assert answer["stored"] == 4
        assert await intake.keys() == {"x:post-0", "x:post-1", "x:post-3"}
        # The refused one stays pending for a retry, then, at its last
        # delivery, goes to the dead-letter stream (the consumer, set to take
        # idle entries at once, stands in for the claim-idle wait).
        consumer = intake.consumer
        assert (await consumer.stream.intake_state(GROUP)).pending == 1
        consumer.settings = replace(consumer.settings, claim_idle=timedelta(0), max_deliveries=3)
        assert await consumer.step() == 1
        assert (await consumer.stream.intake_state(GROUP)).dead == 0
        assert await consumer.step() == 1
        state = await consumer.stream.intake_state(GROUP)
        assert (state.entries, state.pending, state.dead) == (0, 0, 1)
        [dead] = await intake.store.intake_dead_letters()  # type: ignore[attr-defined]
        assert json.loads(dead["m"])["id"] == "post-2"
        assert await intake.keys() == {"x:post-0", "x:post-1", "x:post-3"}
        return
    assert [(i["status"], i.get("field")) for i in answer["items"]] == [
        ("stored", None),
        ("stored", None),
        ("refused", "(admission)"),
        ("stored", None),
    ]
    assert (answer["stored"], answer["refused"]) == (3, 1)
    assert await intake.keys() == {"x:post-0", "x:post-1", "x:post-3"}
