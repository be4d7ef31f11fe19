"""Rendered texts are remembered for contexts of plain values only, and a
remembered text is the one a fresh render gives."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from bot.templates import JinjaTemplates


@dataclass
class Box:
    value: str


@pytest.fixture
def templates(tmp_path: Path) -> JinjaTemplates:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "show.txt").write_text("[{{ v }}]\n", encoding="utf-8")
    (tmp_path / "t" / "box.txt").write_text("[{{ box.value }}]", encoding="utf-8")
    return JinjaTemplates(tmp_path)


def test_equal_values_of_other_types_render_their_own_text(templates: JinjaTemplates) -> None:
    assert templates.render("t/show.txt", v=True) == "[True]"
    assert templates.render("t/show.txt", v=1) == "[1]"  # True == 1, yet not the same text
    assert templates.render("t/show.txt", v=1.0) == "[1.0]"
    assert templates.render("t/show.txt", v=True) == "[True]"
    assert templates.render("t/show.txt", v=None) == "[None]"


def test_an_object_in_the_context_is_rendered_afresh_each_time(templates: JinjaTemplates) -> None:
    box = Box("first")
    assert templates.render("t/box.txt", box=box) == "[first]"
    box.value = "second"
    assert templates.render("t/box.txt", box=box) == "[second]"


def test_a_missing_variable_fails_every_time(templates: JinjaTemplates) -> None:
    for _ in range(2):
        with pytest.raises(UndefinedError):
            templates.render("t/show.txt", other="x")
