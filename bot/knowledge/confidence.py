"""How sure the store is that its best section answers a question: features and calibration.

Apart from :mod:`bot.knowledge.answer` because this is the part the benches fit and
measure (``bench/ask_eval.py --fit``, ``bench/ask_calibrate.py``): the features of a
search's best hit, the logistic models that turn them into a confidence, and the
thresholds chosen with them. Nothing here reads files or keeps state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.knowledge.index import Hit, Query, SectionIndex

#: Answer only when the confidence is at least this (chosen with
#: ``bench/ask_calibrate.py`` on the old set and the handbook dev split: the best mean
#: of answered share and correct abstention over the two, with cross-validated
#: confidences); :data:`LEXICAL_THRESHOLD` when running on BM25 alone.
DEFAULT_THRESHOLD = 0.65
LEXICAL_THRESHOLD = 0.5


@dataclass(frozen=True)
class Features:
    """What the confidence is computed from.

    ``cosine`` is the best section's embedding similarity to the question (0 without
    embeddings); ``coverage`` is the idf-weighted share of the question's terms (known
    to the index or not) found in the best section; ``margin`` is how far the best
    score is ahead of the second, relative to the best; ``matched`` is how many
    distinct question terms the best section contains. ``domain`` depends on the
    question alone: its best cosine with :data:`bot.knowledge.domain.DOMAIN`, what
    communication guidelines are about (0 without embeddings).
    """

    cosine: float
    coverage: float
    margin: float
    matched: int
    domain: float = 0.0


@dataclass(frozen=True)
class Calibration:
    """Maps retrieval features to a confidence: a logistic model fitted by ``ask_eval``.

    The features (see :class:`Features`) are the best section's ``cosine`` with the
    question, ``coverage``, ``margin``, ``log(1 + matched)`` and the question's
    ``domain`` similarity. ``bench/ask_eval.py
    --fit`` fits the weights on ``eval/ask/questions.jsonl`` and compares feature sets
    by cross-validated log loss; :data:`SEMANTIC_CALIBRATION` is used with embeddings,
    :data:`LEXICAL_CALIBRATION` when the store runs on BM25 alone.
    """

    bias: float
    cosine: float = 0.0
    coverage: float = 0.0
    margin: float = 0.0
    matched: float = 0.0
    domain: float = 0.0

    def confidence(self, features: Features) -> float:
        """The probability that the best section answers the question."""
        z = (
            self.bias
            + self.cosine * features.cosine
            + self.coverage * features.coverage
            + self.margin * features.margin
            + self.matched * math.log1p(features.matched)
            + self.domain * features.domain
        )
        return 1.0 / (1.0 + math.exp(-z))


#: Fitted with embeddings on the old set and the handbook dev split
#: (``bench/ask_calibrate.py``): cosine, log(1+matched) and the question's domain
#: similarity, the target being "the question is answerable".
SEMANTIC_CALIBRATION = Calibration(bias=-5.551, cosine=7.076, matched=2.102, domain=5.538)
#: Fitted on BM25 alone (margin + log(1+matched)).
LEXICAL_CALIBRATION = Calibration(bias=-4.259, margin=2.141, matched=2.92)


def compute_features(
    index: SectionIndex, query: Query, hits: list[Hit], domain: float = 0.0
) -> Features:
    """Cosine, coverage, margin and matched terms of the best hit (see :class:`Features`)."""
    best = hits[0]
    present = index.section_terms(best.section)
    total = covered = 0.0
    matched = 0
    for term, weight in zip(query.terms, query.weights, strict=True):
        idf = index.idf(term) * weight
        total += idf
        if term in present:
            covered += idf
            matched += 1
    second = hits[1].score if len(hits) > 1 else 0.0
    return Features(
        cosine=best.cosine if best.cosine is not None else 0.0,
        coverage=covered / total if total else 0.0,
        margin=(best.score - second) / best.score if best.score > 0 else 0.0,
        matched=matched,
        domain=domain,
    )
