"""One permission table: the router, the handlers, help and the README all read it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.app import Loaded
from bot.config import parse_settings
from bot.core.errors import ConfigError
from bot.core.permissions import DEFAULT_PERMISSIONS, Permission
from handlers.help import permission_table
from tests.conftest import ROOT, Chat, open_chat, writable_guidelines

SAMPLE = (ROOT / "playcaller.yaml").read_text(encoding="utf-8")


async def test_an_admin_without_another_role_cannot_triage(chat: Chat) -> None:
    out = await chat.run("as ada", "channel #care", "/triage")
    assert "Only a responder or coach can see the triage queue." in out
    out = await chat.run(
        'mention {"network":"x","id":"9","text":"hi","created_at":"2026-03-02T08:00:00Z",'
        '"author":{"handle":"a"}}',
        "click Claim #1",
    )
    assert "Only a responder or coach can claim mentions." in out


async def test_admin_help_lists_linking_and_not_triage(chat: Chat) -> None:
    out = await chat.run("as ada", "channel @ada", "say help")
    assert "/playcaller link SPOKE" in out
    assert "/triage" not in out
    out = await chat.run("as maria", "say help")
    assert "/triage [spoke]" in out and "/playcaller link" not in out
    out = await chat.run("as jo", "say help")
    assert "/ask QUESTION" in out and "/triage" not in out and "/ask report" not in out


async def test_the_config_can_let_admins_triage(
    store_backend: tuple[str, str], loaded: Loaded, tmp_path: Path
) -> None:
    settings = parse_settings(
        SAMPLE + "\npermissions:\n  triage: [responder, coach, admin]\n", "playcaller.yaml"
    )
    changed = dataclasses.replace(writable_guidelines(loaded, tmp_path / "g"), settings=settings)
    chat = await open_chat(*store_backend, changed)
    try:
        out = await chat.run("as ada", "channel #care", "/triage")
        assert "Triage queue: Customer Care" in out
        assert "/triage [spoke]" in await chat.run("say help")
        out = await chat.run("as sam", "channel new #x", "/playcaller link care")
        assert "Only an admin can link channels." in out
    finally:
        await chat.store.close()


def test_a_bad_permission_entry_is_a_config_problem_with_its_line() -> None:
    text = SAMPLE + "\npermissions:\n  triage: [responder, wizard]\n  fly: [coach]\n"
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "bad.yaml")
    found = [str(p) for p in caught.value.problems]
    lines = text.splitlines()
    triage = lines.index("  triage: [responder, wizard]") + 1
    fly = lines.index("  fly: [coach]") + 1
    assert any(
        p.startswith(f"bad.yaml:{triage}: permissions.triage: unknown role 'wizard'") for p in found
    )
    assert any(
        p.startswith(f"bad.yaml:{fly}: permissions: unknown permission 'fly'") for p in found
    )


def test_everyone_in_the_config_opens_a_permission() -> None:
    settings = parse_settings(SAMPLE + "\npermissions:\n  ask_report: [everyone]\n", "c.yaml")
    jo = settings.actor_for(settings.people["jo"], "console")
    assert jo.may(Permission.ASK_REPORT)
    assert not jo.may(Permission.TRIAGE)


def test_the_readme_shows_the_default_table(loaded: Loaded) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert permission_table(DEFAULT_PERMISSIONS, loaded.templates.render) in readme
