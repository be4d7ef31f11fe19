"""Which sentences of a section to quote: the advice that answers the question.

A section usually opens by restating the situation ("A reporter may write to you...")
and then says what to do. The quote is the run of one to three consecutive units
(sentences, list items, table rows) that scores best on two things:

* **relevance**: the idf weight of the question's terms that the run contains;
* **advice**: units that instruct (``must``, ``never``, ``do not``, ``only``...,
  or an imperative verb at the start), that name a contact (an e-mail address, a
  ``#channel``, a phone number, "tell", "contact", "send to") or that state a rule
  count as advice.

Advice weighs as much as a well-matched term, so a directive sentence with some of
the question's words beats an opening sentence that repeats all of them; a section
whose units share no term with the question is quoted from its first advice unit.
"""

from __future__ import annotations

import re

from bot.knowledge.documents import Section
from bot.knowledge.index import Query, SectionIndex

MAX_SENTENCES = 3
MAX_PASSAGE = 700

_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "mr.", "mrs.", "ms.", "dr.", "no.", "approx.")
_SENTENCE_END = re.compile("(?<=[.!?])[\"'\u201d\u2019)]*\\s+(?=[\"'\u201c\u2018(\\[]?[A-Z0-9])")
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>])")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+(?:\[[ xX]\]\s+)?")

#: Words that make a sentence an instruction or a rule.
_DIRECTIVE = re.compile(
    r"\b(?:must|mustn't|should|shouldn't|never|always|only|do not|don't|does not|cannot|"
    r"can't|may not|need to|needs to|have to|has to|are required|is required|required to|"
    r"not allowed|allowed to|prohibited|forbidden|make sure|ensure|avoid|please)\b",
    re.IGNORECASE,
)
#: Words that point to who to contact or what to hand over.
_CONTACT = re.compile(
    r"[\w.+-]+@[\w-]+\.[\w.]+|(?<![\w&])#[a-z][\w-]+|\+?\d[\d ()-]{6,}\d|"
    r"\b(?:contact|call|phone|tell|ask|email|e-mail|send|forward|escalate|report|refer|reach out|"
    r"notify|inform|pass)\b",
    re.IGNORECASE,
)
#: Verbs that start an imperative sentence ("Reply politely", "Take screenshots").
_IMPERATIVE = frozenset(
    [
        "add",
        "answer",
        "ask",
        "avoid",
        "block",
        "call",
        "check",
        "choose",
        "claim",
        "confirm",
        "consider",
        "contact",
        "copy",
        "delete",
        "disclose",
        "do",
        "don't",
        "email",
        "ensure",
        "escalate",
        "explain",
        "flag",
        "follow",
        "forward",
        "get",
        "give",
        "go",
        "hand",
        "hide",
        "include",
        "inform",
        "keep",
        "let",
        "link",
        "list",
        "make",
        "mark",
        "mention",
        "note",
        "notify",
        "offer",
        "open",
        "pass",
        "pause",
        "post",
        "put",
        "read",
        "refer",
        "remove",
        "reply",
        "report",
        "request",
        "respond",
        "review",
        "say",
        "see",
        "send",
        "share",
        "show",
        "stay",
        "stop",
        "submit",
        "take",
        "talk",
        "tell",
        "treat",
        "turn",
        "update",
        "use",
        "wait",
        "write",
    ]
)
#: Sentences about the document itself ("This page explains...") are never the advice.
_META = re.compile(
    r"^(?:this|the following|these) (?:page|guideline|guide|section|document|policy|handbook)s?\b",
    re.IGNORECASE,
)
_ADVICE_WEIGHT = 1.0  # in units of the question's mean term idf


def split_sentences(text: str) -> list[str]:
    """Split section text into quotable units: sentences, list items and table rows."""
    units: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            units.extend(_sentences(" ".join(paragraph)))
            paragraph.clear()

    for raw in text.split("\n"):
        line = raw.strip()
        if not line or line.startswith(("```", "~~~")) or set(line) <= set("|-: "):
            flush()
            continue
        if _LIST_ITEM.match(raw) or line.startswith("|") or line.startswith(">"):
            flush()
            line = _LIST_ITEM.sub("", raw).strip().lstrip(">").strip()
        paragraph.append(line)
    flush()
    return [u for u in units if u]


def _sentences(paragraph: str) -> list[str]:
    paragraph = " ".join(paragraph.replace("**", "").replace("__", "").split())
    paragraph = _ESCAPED.sub(r"\1", paragraph)  # Markdown escapes: "\#" is shown as "#"
    pieces = _SENTENCE_END.split(paragraph)
    merged: list[str] = []
    for piece in pieces:
        if merged and merged[-1].lower().endswith(_ABBREVIATIONS):
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    return merged


def advice(unit: str) -> float:
    """How much ``unit`` reads as advice: 0 (a statement) to 1 (an instruction with a
    contact); -1 for a sentence about the document itself."""
    if _META.match(unit):
        return -1.0
    first = unit.lstrip("\"'\u201c(").split(" ", 1)[0].casefold().strip(",:;")
    score = 0.0
    if _DIRECTIVE.search(unit) or first in _IMPERATIVE:
        score += 0.7
    if _CONTACT.search(unit):
        score += 0.3
    return score


def extract_passage(
    index: SectionIndex, section: Section, query: Query, also: frozenset[str] = frozenset()
) -> str:
    """The one to three consecutive units of ``section`` that best give the advice asked for.

    ``also`` are more terms to look for, weighted like the question's (the stems of a
    safety topic the question names, so that the quote is the part about it).
    """
    units = split_sentences(section.text)
    if not units:
        return section.text.strip()[:MAX_PASSAGE]
    weights = {
        term: index.idf(term) * weight
        for term, weight in zip(query.terms, query.weights, strict=True)
    }
    mean_idf = sum(weights.values()) / len(weights) if weights else 1.0
    for term in also - weights.keys():
        weights[term] = mean_idf
    unit_terms = [set(index.analyzer.terms(unit)) & weights.keys() for unit in units]
    unit_advice = [advice(unit) * _ADVICE_WEIGHT * mean_idf for unit in units]
    best: tuple[float, int, int] | None = None  # (score, -length, -start)
    best_span = (0, 1)
    for start in range(len(units)):
        if unit_advice[start] < 0:
            continue  # a sentence about the document is never quoted
        covered: set[str] = set()
        advice_score = 0.0
        length = 0
        for end in range(start, min(start + MAX_SENTENCES, len(units))):
            length += len(units[end]) + 1
            if end > start and length > MAX_PASSAGE:
                break
            if end > start and (unit_advice[end] < 0 or not (unit_terms[end] or unit_advice[end])):
                break  # a run grows only by units that match or advise
            covered |= unit_terms[end]
            advice_score = max(advice_score, unit_advice[end]) if end > start else unit_advice[end]
            score = sum(weights[t] for t in covered) + advice_score
            # A longer run must add something: ties go to the shorter, earlier one.
            key = (round(score, 6), -(end - start), -start)
            if best is None or key > best:
                best, best_span = key, (start, end + 1)
    start, end = best_span
    passage = " ".join(units[start:end])
    if len(passage) > MAX_PASSAGE:
        passage = passage[: MAX_PASSAGE - 1].rsplit(" ", 1)[0] + "…"
    return passage
