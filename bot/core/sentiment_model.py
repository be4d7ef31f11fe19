"""The trained sentiment model and how it combines with the rules.

The rule lexicon scored 0 complaints shown positive on every set it was
tuned on and 4 of 140 on a set by a writer it had never seen: rules overfit
their authors' phrasing. A small logistic model over words, emojis, and the
rules' own signals (:mod:`bot.core.sentiment_features`), trained on several
writers, carries what the rules miss. Its weights are data (written by
``eval/sentiment/train.py``, read by :mod:`bot.intake.enrich`); this module
only scores: a sum of dict look-ups per head, compared with a threshold on
the logit, so no exponentials on the hot path.

The decision (every threshold chosen by leave-one-writer-out
cross-validation, see ``eval/sentiment/README.md``):

* complaint: the complaint head at or over its threshold, or at or over a
  lower one (``complaint_with_rules``) when the rules found a complaint: the
  rules' vote counts, the model decides how much;
* urgent: the same with the urgent head and the rules' urgency;
* an urgent complaint the rules find stands (``urgent_complaint_stands``);
* the label: negative for a complaint; positive only when the positive head
  clears its threshold (one of its own when the rules show the post positive)
  *and* the complaint head stays under a guard lower than the complaint
  threshold (a card that shows praise for a complaint is
  the harmful error, praise shown neutral the cheap one); otherwise negative
  when the negative head clears its threshold, else neutral.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.core.complaints import Signals
from bot.core.sentiment_scorer import PostScorer, Scores

#: The heads, in the order of each feature's weights in the model file.
HEADS = ("complaint", "positive", "negative", "urgent")
FORMAT = "playcaller-sentiment-linear/1"


def logit(p: float) -> float:
    return math.log(p / (1.0 - p))


@dataclass(frozen=True)
class Decision:
    """The thresholds, as probabilities, and how the rules take part."""

    complaint: float
    #: The complaint threshold when the rules found a complaint (<= complaint).
    complaint_with_rules: float
    guard: float
    positive: float
    #: The positive threshold when the rules show the post positive.
    positive_with_rules: float
    negative: float
    urgent: float
    #: The urgent threshold when the rules found the post urgent (<= urgent).
    urgent_with_rules: float
    #: A product rule, not chosen by CV: when the rules find an urgent
    #: complaint (a legal threat, a safety risk, money lost, a stranded
    #: traveller: the issue's own lawsuit example), the card says
    #: "Complaint · urgent" whatever the model says; these are the complaints
    #: most costly to miss, and the rules' phrases for them are specific.
    urgent_complaint_stands: bool = True


THRESHOLDS = tuple(
    name for name in Decision.__dataclass_fields__ if name != "urgent_complaint_stands"
)


@dataclass(frozen=True)
class Verdict:
    label: str
    complaint: bool
    urgent: bool


class LinearSentiment:
    """Weights per feature name, one per head of :data:`HEADS`."""

    def __init__(self, weights: Mapping[str, tuple[float, ...]], decision: Decision) -> None:
        self.weights = weights
        self.decision = decision
        # Comparing logits is the same as comparing probabilities.
        self._complaint = logit(decision.complaint)
        self._complaint_with_rules = logit(decision.complaint_with_rules)
        self._urgent_with_rules = logit(decision.urgent_with_rules)
        self._guard = logit(decision.guard)
        self._positive = logit(decision.positive)
        self._positive_with_rules = logit(decision.positive_with_rules)
        self._negative = logit(decision.negative)
        self._urgent = logit(decision.urgent)
        self._post = PostScorer(weights)

    def scores(self, features: Iterable[str]) -> Scores:
        """The logit of each head for a post with these features: the
        definition, as training reads it (see :meth:`post_scores`)."""
        c = p = n = u = 0.0
        get = self.weights.get
        for name in features:
            w = get(name)
            if w is not None:
                c += w[0]
                p += w[1]
                n += w[2]
                u += w[3]
        return c, p, n, u

    def post_scores(
        self,
        text: str,
        network: str,
        compound: float,
        negatives: int,
        signals: Signals,
        rules_label: str,
    ) -> Scores:
        """The same logits as :meth:`scores` of the post's
        :func:`~bot.core.sentiment_features.features` (the arguments are
        theirs), without building the feature names: the intake's path."""
        return self._post.scores(text, network, compound, negatives, signals, rules_label)

    def decide(
        self,
        features: Iterable[str],
        rules_complaint: bool,
        rules_urgent: bool,
        rules_positive: bool = False,
    ) -> Verdict:
        """The card's label and flags from the features and the rules' own
        answer (their complaint, urgency, and whether they show positive)."""
        return self.verdict(self.scores(features), rules_complaint, rules_urgent, rules_positive)

    def verdict(
        self,
        scores: Scores,
        rules_complaint: bool,
        rules_urgent: bool,
        rules_positive: bool = False,
    ) -> Verdict:
        """The card's label and flags from the heads' logits (:meth:`scores`,
        :meth:`post_scores`) and the rules' own answer."""
        c, p, n, u = scores
        # Positive has a bar of its own when the rules agree; the guard always.
        bar = self._positive_with_rules if rules_positive else self._positive
        complaint = c >= (self._complaint_with_rules if rules_complaint else self._complaint)
        urgent = u >= (self._urgent_with_rules if rules_urgent else self._urgent)
        if rules_complaint and rules_urgent and self.decision.urgent_complaint_stands:
            complaint = urgent = True
        if complaint:
            label = "negative"
        elif c < self._guard and p >= bar:
            label = "positive"
        elif n >= self._negative:
            label = "negative"
        else:
            label = "neutral"
        return Verdict(label, complaint, urgent)


class ModelFileError(ValueError):
    """The model file is not one this code can read."""


def _is_number(value: object) -> bool:
    """A finite JSON number (true and false are not numbers here)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def model_from_data(data: Mapping[str, object]) -> LinearSentiment:
    """The model described by the parsed JSON of a model file."""
    if data.get("format") != FORMAT:
        raise ModelFileError(f"unknown model format {data.get('format')!r}, expected {FORMAT}")
    if data.get("heads") != list(HEADS):
        raise ModelFileError(f"model heads {data.get('heads')!r}, expected {list(HEADS)}")
    raw_weights = data.get("weights")
    raw_decision = data.get("decision")
    if not isinstance(raw_weights, dict) or not isinstance(raw_decision, dict):
        raise ModelFileError("model file lacks 'weights' or 'decision'")
    weights: dict[str, tuple[float, ...]] = {}
    for name, values in raw_weights.items():
        if (
            not isinstance(values, list)
            or len(values) != len(HEADS)
            or not all(_is_number(v) for v in values)
        ):
            raise ModelFileError(f"feature {name!r} needs {len(HEADS)} finite numbers as weights")
        weights[str(name)] = tuple(float(v) for v in values)
    stands = raw_decision.get("urgent_complaint_stands")
    if not isinstance(stands, bool):
        raise ModelFileError("decision urgent_complaint_stands must be true or false")
    if not all(_is_number(raw_decision.get(name)) for name in THRESHOLDS):
        raise ModelFileError(f"decision needs the thresholds {', '.join(THRESHOLDS)} as numbers")
    decision = Decision(
        **{name: float(raw_decision[name]) for name in THRESHOLDS},
        urgent_complaint_stands=stands,
    )
    for field in THRESHOLDS:
        if not 0.0 < getattr(decision, field) < 1.0:
            raise ModelFileError(f"threshold {field} must be a probability strictly in (0, 1)")
    return LinearSentiment(weights, decision)
