"""Room names and topics (pure), and the crisis_rooms config: whatever a
summary holds, a channel name keeps to Slack's rules and a topic is inert."""

from __future__ import annotations

import pytest

from bot.config import parse_settings
from bot.core.errors import ConfigError
from bot.core.rooms import MAX_NAME, MAX_TOPIC, channel_name, numbered, place_matches, topic
from tests.conftest import ROOT

SAMPLE = (ROOT / "playcaller.yaml").read_text(encoding="utf-8")
HOSTILE = "<!channel> @here Ünïcödé *BOLD* <https://evil.example|click> ../.. \u202eevil"


def test_the_default_pattern_names_the_incident_and_playbook() -> None:
    name = channel_name(
        "crisis-{incident}-{playbook}", {"incident": "CR-42", "playbook": "service-outage"}
    )
    assert name == "crisis-cr-42-service-outage"


def test_a_hostile_summary_in_the_name_keeps_to_slacks_rules() -> None:
    name = channel_name("crisis-{incident}-{summary}", {"incident": "CR-7", "summary": HOSTILE * 5})
    assert name.startswith("crisis-cr-7-channel-here-unicode-bold-https-evil-example")
    assert len(name) <= MAX_NAME and not name.endswith("-")
    assert all(c.islower() or c.isdigit() or c in "-_" for c in name)
    assert ".." not in name and " " not in name and "<" not in name


def test_an_empty_name_and_numbered_retries_stay_within_80() -> None:
    assert channel_name("{summary}", {"summary": "!!!"}) == "room"
    long = channel_name("{summary}", {"summary": "x" * 200})
    assert len(long) == MAX_NAME
    assert numbered(long, 1) == long
    assert numbered(long, 3).endswith("-3") and len(numbered(long, 3)) == MAX_NAME


def test_a_topic_is_one_inert_line_of_at_most_250() -> None:
    shown = topic(f"CR-1 · {HOSTILE}\n\nsecond line " * 20)
    assert len(shown) <= MAX_TOPIC and "\n" not in shown
    assert "@here" not in shown and "\u202e" not in shown


def test_a_room_channel_is_the_whole_channel_a_fallback_only_its_thread() -> None:
    room = {"channel": "C1", "name": "crisis-cr-1"}
    thread = {"channel": "C0HUB", "ts": "1.2", "fallback": "incident:CR-1"}
    teams = {"conversation": "19:hub", "activity_id": "A1", "fallback": "incident:CR-1"}
    assert place_matches(room, "C1", "") and not place_matches(room, "C2", "")
    assert place_matches(thread, "C0HUB", "1.2") and not place_matches(thread, "C0HUB", "")
    assert place_matches(teams, "19:hub", "A1") and not place_matches(teams, "19:hub", "A2")


def test_the_config_names_a_bad_room_pattern() -> None:
    bad = SAMPLE + "\ncrisis_rooms:\n  name: crisis-{oops}\n"
    with pytest.raises(ConfigError) as caught:
        parse_settings(bad, "bad.yaml")
    [problem] = [str(p) for p in caught.value.problems]
    assert "crisis_rooms.name" in problem and "{oops}" in problem
    without_id = SAMPLE + "\ncrisis_rooms:\n  name: crisis-{playbook}\n"
    with pytest.raises(ConfigError) as caught:
        parse_settings(without_id, "bad.yaml")
    assert "{incident}" in str(caught.value.problems[0])


def test_the_sample_config_opens_slack_channels_by_default() -> None:
    rooms = parse_settings(SAMPLE, "playcaller.yaml").crisis_rooms
    assert rooms.slack_channels and rooms.name == "crisis-{incident}-{playbook}"
    assert not rooms.private
