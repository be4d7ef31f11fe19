"""Enrichment and routing: plain functions over the settings."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Protocol

import orjson

from bot.core.complaints import Signals, polarity, signals
from bot.core.model import Enrichment, Mention, Priority, Sentiment
from bot.core.sentiment_features import SIGNAL_NAMES, features
from bot.core.sentiment_model import LinearSentiment, ModelFileError, model_from_data
from bot.core.settings import RoutingRule, Settings
from bot.intake.feed import IncomingMention
from bot.intake.words import Probe, Vocabulary, WordList, vocabulary


class SentimentModel(Protocol):
    """The sentiment of a post: its tone, and whether it is a complaint or urgent."""

    def assess(self, text: str, network: str) -> Sentiment:
        """The sentiment a card shows for ``text`` posted on ``network``."""


class RulesSentiment:
    """VADER (a lexicon and rule model tuned for social media text) for the
    tone, with the complaint and urgency lexicon of :mod:`bot.core.complaints`
    overruling it where VADER misreads customer care: the engine before the
    trained model, kept as its input and for comparison."""

    def __init__(self) -> None:
        from bot.intake.vader import FastVader

        self._analyzer = FastVader()

    def compound(self, text: str) -> float:
        # VADER is linear in the text length; the lead of a very long post
        # carries its tone, and this bounds the cost of hostile input.
        return float(self._analyzer.polarity_scores(text[:5000])["compound"])

    def read(self, text: str, network: str) -> RulesReading:
        """Everything the rules find in ``text``: the trained model's input."""
        compound = round(self.compound(text), 4)
        lead = text[:5000]
        negatives = self.negatives(lead)
        found = signals(lead, network, compound, negatives)
        return RulesReading(compound, negatives, found, polarity(compound, found))

    def assess(self, text: str, network: str) -> Sentiment:
        reading = self.read(text, network)
        found = reading.signals
        return Sentiment(reading.compound, reading.label, found.complaint, found.urgent)

    def negatives(self, text: str) -> int:
        """How many words of ``text`` VADER's lexicon holds as clearly
        negative, not counting one right after a negation ("not bad")."""
        lexicon = self._analyzer.lexicon
        count, previous = 0, ""
        for word in _WORD.findall(text.lower()):
            if lexicon.get(word, 0.0) <= _NEGATIVE and previous not in _NEGATIONS:
                count += 1
            previous = word
        return count


@dataclass(frozen=True)
class RulesReading:
    compound: float
    negatives: int
    signals: Signals
    #: The label the rules alone show (:func:`bot.core.complaints.polarity`).
    label: str

    def features(self, text: str, network: str) -> set[str]:
        """The trained model's features of ``text`` (cut as the rules cut it)."""
        fired = [name for name in SIGNAL_NAMES if getattr(self.signals, name)]
        return features(text[:5000], network, self.compound, self.negatives, fired, self.label)


class VaderSentiment(RulesSentiment):
    """The shipped engine: the rules' reading of a post, and a small trained
    model (:mod:`bot.core.sentiment_model`, weights shipped in this package)
    over its words and that reading, which decides the label, the complaint
    and urgency. The rules alone overfit their authors' phrasing; the model,
    trained on several writers, generalizes to writers it has not seen."""

    def __init__(self, model: LinearSentiment | None = None) -> None:
        super().__init__()
        self.model = model if model is not None else shipped_model()

    def assess(self, text: str, network: str) -> Sentiment:
        reading = self.read(text, network)
        found = reading.signals
        # The model's logits straight from the text and the reading: the same
        # as summing the weights of reading.features(), at a fraction of the cost.
        scores = self.model.post_scores(
            text[:5000], network, reading.compound, reading.negatives, found, reading.label
        )
        verdict = self.model.verdict(
            scores, found.complaint, found.urgent, reading.label == "positive"
        )
        return Sentiment(reading.compound, verdict.label, verdict.complaint, verdict.urgent)


#: The model file, written only by ``eval/sentiment/train.py``.
MODEL_FILE = "data/sentiment_model.json"


@lru_cache(maxsize=1)
def shipped_model() -> LinearSentiment:
    """The model shipped in this package, read once per process.

    Any fault of the file (missing, unreadable, not JSON, not a model) is a
    :class:`ModelFileError` naming the file, so start-up stops with that and
    not with a traceback or a misleading "cannot reach the store"."""
    path = resources.files("bot.intake") / MODEL_FILE
    try:
        data = orjson.loads(path.read_bytes())
        if not isinstance(data, dict):
            raise ModelFileError("does not hold a JSON object")
        return model_from_data(data)
    except (OSError, ValueError) as exc:  # orjson.JSONDecodeError is a ValueError
        raise ModelFileError(f"sentiment model {path}: {exc}") from exc


_WORD = re.compile(r"[a-z']+")
#: VADER valences run from -4 to 4; "lost" is -1.3, "wrong" -2.1, "no" -1.2.
_NEGATIVE = -1.25
_NEGATIONS = frozenset(
    ("not", "no", "never", "isn't", "wasn't", "don't", "didn't", "can't", "nothing")
)


def sentiment_label(compound: float) -> str:
    """VADER's conventional thresholds."""
    if compound >= 0.05:
        return "positive"
    if compound <= -0.05:
        return "negative"
    return "neutral"


@lru_cache(maxsize=512)
def _word_list(words: tuple[str, ...]) -> WordList:
    return WordList(words)


def matches(text: str, words: Iterable[str]) -> tuple[str, ...]:
    """The words (as configured) found in ``text`` as whole words, in config order."""
    return _word_list(tuple(words)).found_in(Probe(text))


def route(
    vocabulary: Vocabulary,
    mention: IncomingMention,
    probe: Probe,
    sentiment: str,
    risks: tuple[str, ...],
) -> RoutingRule | None:
    """The first rule of ``vocabulary.settings`` whose every given condition
    holds (``probe`` is the mention's text)."""
    for rule, keywords in zip(vocabulary.settings.rules, vocabulary.keywords, strict=True):
        if rule.networks and mention.network not in rule.networks:
            continue
        if rule.languages and (mention.lang or "") not in rule.languages:
            continue
        if rule.sentiments and sentiment not in rule.sentiments:
            continue
        if rule.risks and not set(rule.risks) & set(risks):
            continue
        if rule.keywords and not keywords.found_in(probe):
            continue
        return rule
    return None


def _raised(priority: Priority, sentiment: Sentiment) -> Priority:
    """An urgent post (a safety risk, a legal threat, a stranded traveller, a
    press deadline) is at least high priority, so its response time is the
    high one whatever rule routed it; the rules keep ``urgent`` for
    themselves. A complaint alone raises nothing: half of all mentions are."""
    if sentiment.urgent and priority.rank > Priority.HIGH.rank:
        return Priority.HIGH
    return priority


def enrich(
    incoming: IncomingMention, settings: Settings, model: SentimentModel, received_at: datetime
) -> Mention:
    """Score, flag and route an incoming mention."""
    sentiment = model.assess(incoming.text, incoming.network)
    # Routing rules' ``sentiments`` keep matching VADER's own tone, as before
    # the complaint signals: half of all mentions are complaints, and rules
    # that sent every negative post to high priority would send them all
    # one by one through a surge. The card shows the complaint-aware label;
    # urgency raises the priority below.
    label = sentiment_label(sentiment.compound)
    words = vocabulary(settings)
    probe = Probe(incoming.text)
    risks = words.risks_in(probe)
    rule = route(words, incoming, probe, label, risks)
    enrichment = Enrichment(
        sentiment=sentiment,
        brands=words.brands.found_in(probe),
        competitors=words.competitors.found_in(probe),
        risks=risks,
        priority=_raised(
            rule.priority if rule and rule.priority else settings.default_priority, sentiment
        ),
        spoke=rule.spoke if rule else settings.default_spoke,
        rule=rule.name if rule else None,
    )
    return Mention(
        network=incoming.network,
        external_id=incoming.external_id,
        text=incoming.text,
        created_at=incoming.created_at,
        author=incoming.author,
        received_at=received_at,
        enrichment=enrichment,
        url=incoming.url,
        lang=incoming.lang,
        in_reply_to=incoming.in_reply_to,
        extra=incoming.extra,
    )
