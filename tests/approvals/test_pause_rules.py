"""The publishing pause's pure transitions on a draft: who is held, and what
a held post becomes when the pause ends (its time to come, or passed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handlers.approvals.pause import Pause, hold, unhold
from handlers.approvals.records import Decision, Draft, DraftState, Version
from handlers.approvals.rules import Refusal

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def scheduled(state: DraftState = DraftState.APPROVED, minutes: int = 60) -> Draft:
    return Draft(
        id="d1",
        account_id="acme-x",
        spoke="care",
        author="sam",
        created_at=NOW,
        versions=(Version(1, "Spring sale", "sam", NOW),),
        state=state,
        publish_at=NOW + timedelta(minutes=minutes),
    )


def test_a_pause_covers_its_accounts_or_all() -> None:
    assert Pause("crisis:CR-1", "crisis CR-1", ("acme-x",), "priya", NOW).covers("acme-x")
    assert not Pause("crisis:CR-1", "c", ("acme-x",), "priya", NOW).covers("acme-bsky")
    assert Pause("crisis:CR-1", "c", (), "priya", NOW).covers("acme-bsky")


def test_only_an_approved_scheduled_post_not_yet_released_is_held() -> None:
    held = hold(scheduled(), ("crisis:CR-1",), "priya", NOW)
    assert isinstance(held, Draft) and held.held_by == ("crisis:CR-1",)
    assert held.history[-1].what == "held" and held.history[-1].by == "priya"
    assert isinstance(hold(held, ("crisis:CR-1",), "priya", NOW), Refusal)
    assert isinstance(hold(scheduled(DraftState.PENDING), ("crisis:CR-1",), "p", NOW), Refusal)
    due = scheduled().evolve(history=(Decision("publish_due", "system", NOW, 1),))
    refused = hold(due, ("crisis:CR-1",), "priya", NOW)
    assert isinstance(refused, Refusal) and refused.reason == "released"


def test_when_the_pause_ends_a_future_post_keeps_its_time_a_late_one_is_missed() -> None:
    future = hold(scheduled(minutes=60), ("crisis:CR-1",), "priya", NOW)
    assert isinstance(future, Draft)
    kept = unhold(future, "crisis:CR-1", "priya", NOW + timedelta(minutes=10))
    assert isinstance(kept, Draft)
    assert kept.state is DraftState.APPROVED and kept.held_by == ()
    late = unhold(future, "crisis:CR-1", "priya", NOW + timedelta(minutes=61))
    assert isinstance(late, Draft) and late.state is DraftState.MISSED
    assert late.history[-1].what == "missed"
    assert isinstance(unhold(kept, "crisis:CR-1", "priya", NOW), Refusal)


def test_a_post_held_by_two_pauses_stays_held_until_both_end() -> None:
    both = hold(scheduled(), ("crisis:CR-1", "crisis:CR-2"), "priya", NOW)
    assert isinstance(both, Draft)
    one = unhold(both, "crisis:CR-1", "priya", NOW + timedelta(hours=2))
    assert isinstance(one, Draft)
    assert one.held_by == ("crisis:CR-2",) and one.state is DraftState.APPROVED
