"""Is a question about communication guidelines at all? A feature of the question alone.

The best section's cosine says how well the guidelines match a question, but an
off-topic question (payroll, the cafeteria, a laptop) can match an unrelated
document in the folder well. How close the question itself is to what
communication guidelines are about is a second opinion that does not depend on
which documents are in the folder; the confidence
(:class:`bot.knowledge.confidence.Calibration`) weighs the two. Measured in
``docs/benchmarks.md`` ("Third pass").
"""

from __future__ import annotations

import threading

import numpy as np

from bot.knowledge.embedder import Embedder, Vectors

#: What communication guidelines are about, in general words (none taken from any
#: guideline set). Written once before it was measured and not edited after: a list
#: tuned question by question would say how the evaluation sets were written.
DOMAIN = (
    "posting on social media about work or the company",
    "what employees may say online about their employer",
    "running the company's official social media accounts",
    "replying to comments, complaints and messages from the public",
    "talking to journalists, reporters and the press",
    "giving a talk or speaking at a conference or event",
    "communicating during an outage, incident or crisis",
    "confidential information and what must not be shared publicly",
    "abuse, harassment, trolls and threats online",
    "legal threats, lawsuits and regulated topics",
    "the brand, logo and tone of voice in public posts",
    "who approves or answers public statements",
)


class Domain:
    """The question's best cosine with :data:`DOMAIN` (embedded on first use)."""

    def __init__(self, embedder: Embedder, descriptions: tuple[str, ...] = DOMAIN) -> None:
        self._embedder = embedder
        self._descriptions = descriptions
        self._vectors: Vectors | None = None
        self._lock = threading.Lock()

    def similarity(self, question: Vectors) -> float:
        """How close the question's vector is to the nearest description (cosine)."""
        with self._lock:
            if self._vectors is None:
                self._vectors = self._embedder.embed(list(self._descriptions))
        return float(np.max(self._vectors @ question))
