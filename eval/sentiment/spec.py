"""The card examples the tests pin down, as constraints on the decision.

``tests/test_complaints.py`` (and one line of ``tests/test_intake.py``) hold
hand-written examples of what a card must say (the issue's two examples,
irony, polite complaints, negative-sounding praise), none of them in an eval
set. The brief lets such an expectation change only where the new label is
right by the label definitions, so the decision must keep them: ``cv.choose``
takes them as a bound that comes before everything else. Their scores come
from the model trained on all groups (a held-out group's posts are in that
model; the examples are not posts of any group).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent.parent
ANY = -1
NOT_POSITIVE = 3
LABELS = ("negative", "neutral", "positive")


@dataclass
class Spec:
    """Per example: the wanted label (or ANY / NOT_POSITIVE), complaint and
    urgent (1, 0 or ANY), and the rules' answer; ``logits`` are filled in
    by the caller with the model under test."""

    texts: list[tuple[str, str]]
    label: np.ndarray
    complaint: np.ndarray
    urgent: np.ndarray
    rules_label: np.ndarray
    rules_complaint: np.ndarray
    rules_urgent: np.ndarray
    features: list[set[str]]
    logits: np.ndarray | None = None


def _card(card: str) -> tuple[int, int, int]:
    """A card's words (templates/triage/sentiment.txt) as wanted values."""
    # "Positive|Neutral": the card may show either; the first is the one wanted.
    card = card.split("|")[0]
    urgent = int(card.endswith(" · urgent"))
    head = card.removesuffix(" · urgent")
    if head == "Complaint":
        return 0, 1, urgent
    return LABELS.index(head.lower()), 0, urgent


def examples() -> list[tuple[str, str, tuple[int, int, int]]]:
    sys.path.insert(0, str(ROOT))
    from tests import test_complaints as t

    out: list[tuple[str, str, tuple[int, int, int]]] = []
    for test in (t.test_what_the_card_says, t.test_what_the_card_says_for_the_general_rules):
        for row in test.pytestmark[0].args[1]:
            # A pytest.param (a known miss, xfail) still counts as wanted.
            text, network, card = getattr(row, "values", row)
            out.append((text, network, _card(card)))
    for text in t.POLITE_COMPLAINTS:
        out.append((text, "x", (NOT_POSITIVE, ANY, ANY)))
    for text in t.test_praise_with_a_praise_expression_is_never_negative.pytestmark[0].args[1]:
        out.append((text, "x", (2, 0, 0)))
    # tests/test_intake.py (routing): a plain angry post must read negative.
    out.append(("Acme app outage again, total disaster", "x", (0, ANY, ANY)))
    out.append((t.ISSUE_ORDER, "x", (0, 1, ANY)))
    out.append((t.ISSUE_LAWSUIT, "x", (0, 1, 1)))
    return out


def load() -> Spec:
    from bot.intake.enrich import RulesSentiment

    rules = RulesSentiment()
    rows = examples()
    readings = [rules.read(text, network) for text, network, _ in rows]
    return Spec(
        texts=[(text, network) for text, network, _ in rows],
        label=np.array([want[0] for _, _, want in rows]),
        complaint=np.array([want[1] for _, _, want in rows]),
        urgent=np.array([want[2] for _, _, want in rows]),
        rules_label=np.array([LABELS.index(r.label) for r in readings]),
        rules_complaint=np.array([r.signals.complaint for r in readings]),
        rules_urgent=np.array([r.signals.urgent for r in readings]),
        features=[
            r.features(text, network) for r, (text, network, _) in zip(readings, rows, strict=True)
        ],
    )


def misses(
    spec: Spec, label: np.ndarray, complaint: np.ndarray, urgent: np.ndarray | None = None
) -> np.ndarray:
    """How many examples each column of answers gets wrong. ``label`` is
    (examples, k); ``complaint`` and ``urgent`` (examples,) or (examples, k);
    ``urgent`` None leaves urgency unchecked."""
    want = spec.label[:, None]
    bad = np.where(want == NOT_POSITIVE, label == 2, (want != ANY) & (label != want))
    c = complaint if complaint.ndim == 2 else complaint[:, None]
    bad = bad | ((spec.complaint[:, None] != ANY) & (c != spec.complaint[:, None]))
    if urgent is not None:
        u = urgent if urgent.ndim == 2 else urgent[:, None]
        bad = bad | ((spec.urgent[:, None] != ANY) & (u != spec.urgent[:, None]))
    return np.sum(bad, axis=0)
