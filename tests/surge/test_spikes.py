"""Spike alerts in the console, on SQLite and Redis: per spoke and per topic,
an EWMA baseline, a minimum count, at most one alert an hour updated in place."""

from __future__ import annotations

from datetime import timedelta

from bot.core.settings import SpikePolicy
from bot.intake.feed import parse_mention
from handlers.surge import spikes
from handlers.surge.spikes import SpikeState
from tests.conftest import START, Chat


def item(n: int, text: str) -> dict[str, object]:
    return {
        "network": "x",
        "id": f"spike-{n}",
        "text": text,
        "created_at": "2026-03-02T08:00:00Z",
        "author": {"handle": f"fan{n}", "followers": 30},
    }


async def arrive(chat: Chat, start: int, count: int, text: str) -> str:
    """``count`` mentions in one batch; what the console showed for them."""
    before = len(chat.session.transcript)
    batch = [parse_mention(item(n, text)) for n in range(start, start + count)]
    assert all(await chat.runtime.ingest_batch(batch))
    await chat.session.settle()
    return "\n".join(chat.session.transcript[before:])


QUIET = "@acme what time does the store on Main Street open on Sundays?"
LOUD = "@acme the app is down again, cannot log in"


async def usual_morning(chat: Chat) -> None:
    """An hour of four mentions every quarter hour."""
    for quarter in range(4):
        await arrive(chat, 100 + quarter * 4, 4, QUIET)
        await chat.run("advance 15m")


async def test_a_spike_alerts_the_hub_once_and_the_alert_grows_in_place(chat: Chat) -> None:
    await usual_morning(chat)
    shown = await arrive(chat, 1000, 30, LOUD)
    hub_posts = [line for line in shown.splitlines() if line.endswith("· #hub]")]
    assert len(hub_posts) == 2, shown  # the spoke and the topic
    assert "Spike in Customer Care" in shown
    assert "Spike: mentions of app-outage" in shown
    # The 09:45 batch is inside the window too: 4 + 30.
    assert "34 mentions in the last 15m, about 3 usually (moving average)." in shown
    assert "11.2 times usual · Crisis leads told" in shown
    # Ten times the usual: the crisis lead is told directly, once.
    assert "[#" in shown and "@priya" in shown
    # More of it two minutes later: the same alerts are updated, not posted again.
    await chat.run("advance 2m")
    grown = await arrive(chat, 2000, 20, LOUD)
    assert "· #hub]" not in grown.replace("(updated)]", "")
    assert grown.count("#hub (updated)]") == 2
    assert "50 mentions in the last 15m" in grown
    assert "@priya" not in grown
    audit = [e.action for e in await chat.store.audit_log() if e.action.startswith("spike.")]
    assert audit.count("spike.post") == 2 and audit.count("spike.update") == 2
    # An hour later a new burst is a new alert.
    await chat.run("advance 61m")
    again = await arrive(chat, 3000, 60, LOUD)
    assert len([line for line in again.splitlines() if line.endswith("· #hub]")]) == 2


async def test_two_to_six_is_not_a_spike(chat: Chat) -> None:
    await arrive(chat, 1, 2, QUIET)
    await chat.run("advance 15m")
    shown = await arrive(chat, 10, 6, LOUD)
    assert "Spike" not in shown


def test_the_baseline_steps_once_per_window_and_decays_over_quiet_ones() -> None:
    policy = SpikePolicy(smoothing=0.5, window=timedelta(minutes=15))
    state = SpikeState("spoke.care", baseline=8.0, baseline_at=START)
    assert spikes.stepped(state, 100, START + timedelta(minutes=14), policy) == state
    one = spikes.stepped(state, 4, START + timedelta(minutes=15), policy)
    assert one.baseline == 6.0 and one.baseline_at == START + timedelta(minutes=15)
    # Three windows later: two quiet ones halve it twice, then the rate blends in.
    three = spikes.stepped(state, 4, START + timedelta(minutes=46), policy)
    assert three.baseline == 0.5 * 4 + 0.5 * (8.0 * 0.25)
    assert three.baseline_at == START + timedelta(minutes=45)
    assert spikes.is_spike(three, 30, SpikePolicy(min_count=30, factor=3.0))
    assert not spikes.is_spike(three, 29, SpikePolicy(min_count=30, factor=3.0))


def test_topics_match_whole_words_in_any_case() -> None:
    policy = SpikePolicy(topics={"outage": ("down", "log in"), "refunds": ("refund",)})
    assert spikes.topics_in("App DOWN, can't log in", policy) == ["outage"]
    assert spikes.topics_in("downtown refunds", policy) == []


async def test_raise_as_crisis_opens_the_crisis_flow_with_the_alert(chat: Chat) -> None:
    await usual_morning(chat)
    await arrive(chat, 1000, 30, LOUD)
    raised = await chat.run("as alex", "channel #hub", "click Raise as crisis")
    # The newest alert with the button is the topic one.
    assert "Spike alert: 30 mentions of app-outage in 15m, about 0 usually." in raised
    topic_alert = "\n".join(chat.session.transcript)
    assert "Up from almost none" in topic_alert
    assert "[Declare]" in raised and "[Dismiss]" in raised
    audit = [e for e in await chat.store.audit_log() if e.action == "crisis.raised"]
    assert len(audit) == 1 and audit[0].actor == "alex"
    assert "Spike alert:" in audit[0].detail["text"]
