"""The post-incident summary: figures from the timeline, Markdown from the
template, and people's text inert in it."""

from __future__ import annotations

from datetime import timedelta

from bot.core.playbook import Playbook
from bot.core.settings import Settings
from bot.statements import SandboxedStatements
from bot.templates import JinjaTemplates
from handlers.crisis import rules
from handlers.crisis.incident import Incident
from handlers.crisis.summary import figures, inert_markdown, render_markdown
from tests.conftest import ROOT, START

MIN = timedelta(minutes=1)
HOSTILE = "<!channel> @here # Big [click me](https://evil.example) **now** | cell <b>x</b>"


def ok(result: object) -> Incident:
    assert isinstance(result, Incident), result
    return result


def story(playbooks: dict[str, Playbook], settings: Settings) -> Incident:
    incident = rules.declare(
        7,
        playbooks["service-outage"],
        summary=HOSTILE,
        lead="priya",
        declared_by="priya",
        variables={"service": "AcmePay", "status_url": "https://status.acme.com"},
        accounts=settings.accounts,
        renderer=SandboxedStatements(),
        now=START,
    )
    for person in ("priya", "maria"):
        incident = ok(
            rules.record_page(
                incident,
                person=person,
                page_id=f"CR-7:{person}:s0:r0",
                step=0,
                channels=("chat",),
                now=START,
            )
        )
    incident = ok(rules.acknowledge(incident, "maria", START + 3 * MIN))
    incident = ok(rules.acknowledge(incident, "priya", START + 4 * MIN))
    incident = ok(rules.complete_item(incident, 0, "priya", START + 6 * MIN))
    incident = ok(rules.complete_item(incident, 1, "maria", START + 8 * MIN))
    incident = ok(rules.statement_approved(incident, "first", "maria", START + 11 * MIN))
    incident = ok(rules.statement_published(incident, "first", "acme-x", START + 12 * MIN))
    incident = ok(rules.statement_published(incident, "first", "acme-bsky", START + 13 * MIN))
    incident = rules.add_note(incident, HOSTILE, "sam", START + 20 * MIN)
    incident = ok(
        rules.add_item(incident, "Tell [the bank](https://x.example)", "maria", START + 21 * MIN)
    )
    incident = ok(rules.mitigate(incident, "priya", START + 50 * MIN))
    return ok(rules.resolve(incident, "priya", START + timedelta(hours=1, minutes=35)))


def test_figures_come_from_the_timeline(playbooks: dict[str, Playbook], settings: Settings) -> None:
    incident = story(playbooks, settings)
    numbers = figures(incident, now=START + timedelta(days=1))
    assert numbers.duration == timedelta(hours=1, minutes=35)
    assert numbers.time_to_first_ack == 3 * MIN
    assert numbers.time_to_first_statement == 12 * MIN
    assert [(a.person, a.after) for a in numbers.acknowledgements] == [
        ("maria", 3 * MIN),
        ("priya", 4 * MIN),
    ]
    total = len(playbooks["service-outage"].checklist) + 1
    assert (numbers.checklist_done, numbers.checklist_total) == (2, total)
    assert numbers.checklist_percent == round(200 / total)
    assert (numbers.pages_sent, numbers.escalations, numbers.notes) == (2, 0, 1)


def test_an_open_incident_counts_to_now(playbooks: dict[str, Playbook], settings: Settings) -> None:
    incident = rules.declare(
        8,
        playbooks["data-incident"],
        summary="Leak claims",
        lead="priya",
        declared_by="priya",
        variables={"topic": "a list"},
        accounts=settings.accounts,
        renderer=SandboxedStatements(),
        now=START,
    )
    numbers = figures(incident, now=START + 42 * MIN)
    assert numbers.resolved_at is None and numbers.duration == 42 * MIN
    assert numbers.time_to_first_ack is None and numbers.time_to_first_statement is None


def test_the_markdown_shows_the_figures_and_keeps_hostile_text_inert(
    playbooks: dict[str, Playbook], settings: Settings
) -> None:
    incident = story(playbooks, settings)
    names = {p.id: p.name for p in settings.people.values()}
    text = render_markdown(
        incident,
        title="Customer-facing service outage",
        names=names,
        templates=JinjaTemplates(ROOT / "templates"),
        now=START + timedelta(days=1),
    )
    assert text.startswith("# CR-7: Customer\\-facing service outage")
    assert "| Duration | 1h 35m |" in text
    assert "| Time to first acknowledgement | 3m |" in text
    assert "| Time to first public statement | 12m |" in text
    assert "- Maria Lopez at 09:03 (3m after declaration)" in text
    assert "- [x] " in text and "(Priya Raman, 09:06)" in text
    assert "| 09:20:00 | 20m | Sam Okafor | note |" in text
    assert "| Playcaller | paged | Maria Lopez step 0 via chat |" in text
    for forbidden in ("<!channel>", "@here", "[click me](", "**now**", "<b>", "](https://x"):
        assert forbidden not in text, forbidden
    # Every timeline row keeps its five cells: a "|" in a note cannot add one.
    rows = [line for line in text.splitlines() if line.startswith("| 09:")]
    assert rows and all(line.count(" | ") == 4 for line in rows)


def test_inert_markdown_leaves_plain_words_readable() -> None:
    assert inert_markdown("Bank confirms outage") == "Bank confirms outage"
    assert inert_markdown("# title") == "\\# title"
