"""Another organisation's handbook works without edits: real documents from eval/ask/handbooks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bot.knowledge import GuidelineStore, load_folder
from tests.knowledge.conftest import HANDBOOKS

SEP = " \u203a "


def test_every_handbook_document_loads_with_its_header_fields_noted(tmp_path: Path) -> None:
    names = sorted(
        p.name for p in HANDBOOKS.glob("*.md") if p.name not in ("README.md", "QUESTIONS.md")
    )
    assert len(names) == 16
    for name in names:
        shutil.copy(HANDBOOKS / name, tmp_path / name)
    documents, problems = load_folder(tmp_path)
    assert problems == []
    assert [d.name for d in documents] == names
    for document in documents:
        assert {"url", "source", "licence"} <= dict(document.extra).keys()
        assert all("field not used by the bot (kept, ignored)" in n.message for n in document.notes)
        for section in document.sections:
            assert "<a " not in section.text and "](" not in section.text, (
                document.name,
                section.heading,
            )


def test_headings_at_any_level_and_html_links(tmp_path: Path) -> None:
    for name in ("gitlab-incident-comms.md", "18f-security-incidents.md", "posthog-press.md"):
        shutil.copy(HANDBOOKS / name, tmp_path / name)
    documents, _ = load_folder(tmp_path)
    by_name = {d.name: d for d in documents}
    incident = by_name["gitlab-incident-comms.md"]
    deepest = max(incident.sections, key=lambda s: len(s.path))
    assert len(deepest.path) == 5  # title and four heading levels (## to #####)
    security = by_name["18f-security-incidents.md"]
    [must_report] = [s for s in security.sections if s.path[-1].startswith("You must report")]
    # <a href="mailto:...">GSA IT Service Desk</a>: the text, and the address it hides.
    assert "GSA IT Service\nDesk (itservicedesk@gsa.gov)" in must_report.text
    assert (
        "contact them another way" in must_report.text and "insite.gsa.gov" not in must_report.text
    )
    phishing = [s for s in security.sections if s.path[-1].startswith("Reporting Phishing")]
    assert [s.path[-1] for s in phishing] == ["Reporting Phishing"]  # a link in a heading
    press = by_name["posthog-press.md"]
    # "# Headline" inside the fenced press-release template is not a heading.
    assert [s.path[-1] for s in press.sections if s.path[-1] in ("Headline", "About PostHog")] == []


def test_a_foreign_handbook_answers_with_its_advice(handbooks: GuidelineStore) -> None:
    answer = handbooks.answer("a reporter emailed me directly, where should I forward it?")
    assert answer.answered
    assert (answer.sources[0].doc, answer.sources[0].heading) == (
        "posthog-press.md",
        f"Press{SEP}Press enquiries",
    )
    assert "press@posthog.com" in answer.passage
    assert answer.sources[0].last_reviewed is None and answer.sources[0].owner is None


def test_a_foreign_handbook_leads_to_the_right_section(handbooks: GuidelineStore) -> None:
    found = handbooks.retrieve("I think my computer has been compromised, should I switch it off?")
    section, _ = found.hits[0]
    assert (section.doc, section.path[-1]) == (
        "18f-security-incidents.md",
        "You must report IT security incidents or suspicious activity",
    )


def test_the_second_tuning_set_loads_as_published_and_repeated_headings_stay_apart(
    tmp_path: Path,
) -> None:
    tuning2 = HANDBOOKS.parent / "tuning2"
    for path in tuning2.glob("*.md"):
        if path.name != "README.md":
            shutil.copy(path, tmp_path / path.name)
    documents, problems = load_folder(tmp_path)
    assert problems == []
    assert len(documents) == 12
    cncf = next(d for d in documents if d.name == "cncf-social-media.md")
    objectives = [s for s in cncf.sections if s.path[-1] == "Objectives"]
    # Two handles each have an "Objectives" part: two sections, under different parents.
    assert len(objectives) == 2
    assert objectives[0].path[-2] != objectives[1].path[-2]
    assert objectives[0].text != objectives[1].text
    sections = {(d.name, s.path[-1]) for d in documents for s in d.sections}
    for line in (tuning2 / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        labels = [item, *item.get("also", [])] if item["answerable"] else []
        for label in labels:
            assert (label["doc"], label["section"]) in sections, (item["id"], label)
