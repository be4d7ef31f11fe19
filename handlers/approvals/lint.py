"""The policy lint: pure checks of a draft against the company's policy and
the network's limits.

:func:`lint` returns findings that name the rule, its severity and the span
of the draft it is about. Blocking findings stop submission, warnings are
shown to the approver, and ``needs-legal-step`` findings add a legal
approval step. :func:`explain` turns a finding into a plain sentence from the
``approvals/lint_*.txt`` templates; the rule ids stay here, the words there.

Draft text is hostile: phrases are matched after NFKC folding with
invisible format characters (zero-width spaces, joiners, bidi controls)
removed, so "we g\u200buarantee" is still a guarantee; spans always index
the original text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

import regex

from bot.core.accounts import Account, LintPolicy
from bot.core.ports import Templates
from handlers.approvals import personal
from handlers.approvals.length import UNITS, measure
from handlers.approvals.links import Link, find_links, host_allowed


class Severity(StrEnum):
    BLOCKING = "blocking"
    WARNING = "warning"
    NEEDS_LEGAL_STEP = "needs-legal-step"


class Rule(StrEnum):
    EMPTY = "empty"
    LENGTH = "length"
    EMAIL = "email"
    PHONE = "phone"
    PAYMENT_CARD = "payment-card"
    IBAN = "iban"
    REFERENCE = "reference-number"
    LEGAL_PHRASE = "legal-phrase"
    BANNED_TERM = "banned-term"
    COMPETITOR = "competitor"
    LINK = "link-not-allowed"
    MENTION = "mention"
    SHOUTING = "shouting"


SEVERITY: dict[Rule, Severity] = {
    Rule.EMPTY: Severity.BLOCKING,
    Rule.LENGTH: Severity.BLOCKING,
    Rule.EMAIL: Severity.BLOCKING,
    Rule.PHONE: Severity.BLOCKING,
    Rule.PAYMENT_CARD: Severity.BLOCKING,
    Rule.IBAN: Severity.BLOCKING,
    Rule.REFERENCE: Severity.BLOCKING,
    Rule.LEGAL_PHRASE: Severity.NEEDS_LEGAL_STEP,
    Rule.BANNED_TERM: Severity.BLOCKING,
    Rule.COMPETITOR: Severity.WARNING,
    Rule.LINK: Severity.BLOCKING,
    Rule.MENTION: Severity.WARNING,
    Rule.SHOUTING: Severity.WARNING,
}

# Literal names, so start-up's template check finds every one of them.
TEMPLATES: dict[Rule, str] = {
    Rule.EMPTY: "approvals/lint_empty.txt",
    Rule.LENGTH: "approvals/lint_length.txt",
    Rule.EMAIL: "approvals/lint_email.txt",
    Rule.PHONE: "approvals/lint_phone.txt",
    Rule.PAYMENT_CARD: "approvals/lint_payment_card.txt",
    Rule.IBAN: "approvals/lint_iban.txt",
    Rule.REFERENCE: "approvals/lint_reference.txt",
    Rule.LEGAL_PHRASE: "approvals/lint_legal_phrase.txt",
    Rule.BANNED_TERM: "approvals/lint_banned_term.txt",
    Rule.COMPETITOR: "approvals/lint_competitor.txt",
    Rule.LINK: "approvals/lint_link.txt",
    Rule.MENTION: "approvals/lint_mention.txt",
    Rule.SHOUTING: "approvals/lint_shouting.txt",
}

_PERSONAL_RULES = {"email": Rule.EMAIL, "phone": Rule.PHONE, "card": Rule.PAYMENT_CARD}
_VERBATIM_RULES = {
    Rule.EMAIL,
    Rule.PHONE,
    Rule.PAYMENT_CARD,
    Rule.IBAN,
    Rule.REFERENCE,
    Rule.LINK,
    Rule.MENTION,
}
_EXCERPT_MAX = 60
# A word with a capital letter and no lower-case one ("SORRY", "DON'T", "A4").
_UPPER_WORD = regex.compile(
    "(?<![\\p{L}\\p{N}'\u2019])[\\p{Lu}\\p{N}'\u2019]*\\p{Lu}[\\p{Lu}\\p{N}'\u2019]*"
    "(?![\\p{L}\\p{N}'\u2019])"
)
_LOWER = regex.compile(r"[\p{Ll}\p{Lt}]")
_UPPER = regex.compile(r"\p{Lu}")
_MENTION = regex.compile(
    r"(?<![\w@.+\-/])@(?P<name>\w{1,64}(?:[.\-]\w+)*)(?:@(?P<server>[\w\-]+(?:\.[\w\-]+)+))?",
    regex.VERSION1,
)
_SPACES = re.compile(r"\s+")
_INVISIBLE = regex.compile(r"[\p{Cf}\p{Cc}--\s]", regex.VERSION1)
_RUNS = regex.compile(r"[\x00-\x7f]+|[^\x00-\x7f]+")
_FORMAT = regex.compile(r"\p{Cf}")


@dataclass(frozen=True)
class Finding:
    """One problem in a draft: ``text[start:end]`` breaks ``rule``.

    ``excerpt`` is what may be shown of the span (personal data is cut
    short); ``facts`` carries the rest a sentence needs (limit, host, ...).
    """

    rule: Rule
    severity: Severity
    start: int
    end: int
    excerpt: str
    facts: Mapping[str, str | int] = field(default_factory=dict)


def lint(
    text: str, *, account: Account, policy: LintPolicy, reply_to: str | None = None
) -> list[Finding]:
    """Every finding for ``text`` drafted for ``account``, in text order.

    ``reply_to`` is the handle of the person replied to: mentioning them is
    expected, any other account is a warning.
    """
    if not text.strip():
        return [_finding(Rule.EMPTY, text, 0, len(text))]
    links = find_links(text)
    findings = _length(text, account, links)
    findings += _personal(text, policy)
    lists = (
        (Rule.LEGAL_PHRASE, policy.phrases_for(account.spoke)),
        (Rule.BANNED_TERM, policy.banned_terms),
        (Rule.COMPETITOR, policy.competitors),
    )
    findings += [_finding(rule, text, s, e) for rule, s, e in _Folded.of(text).find(lists)]
    findings += [
        _finding(Rule.LINK, text, link.start, link.end, host=link.host)
        for link in links
        if not host_allowed(link.host, policy.link_allow_list)
    ]
    findings += _mentions(text, account, reply_to)
    # Codes, addresses and handles are written as they are, not shouted.
    verbatim = [(f.start, f.end) for f in findings if f.rule in _VERBATIM_RULES]
    findings += _shouting(text, policy.shouting_min_letters, verbatim)
    return sorted(findings, key=lambda f: (f.start, f.end, f.rule.value))


def blocking(findings: list[Finding]) -> list[Finding]:
    """The findings that stop submission."""
    return [f for f in findings if f.severity is Severity.BLOCKING]


def needs_legal_step(findings: list[Finding]) -> bool:
    """Does any finding call for a legal approval step?"""
    return any(f.severity is Severity.NEEDS_LEGAL_STEP for f in findings)


def explain(finding: Finding, templates: Templates) -> str:
    """The finding as a plain sentence."""
    return templates.render(
        TEMPLATES[finding.rule],
        excerpt=finding.excerpt,
        severity=finding.severity.value,
        **finding.facts,
    )


def _finding(rule: Rule, text: str, start: int, end: int, **facts: str | int) -> Finding:
    return Finding(rule, SEVERITY[rule], start, end, _excerpt(text[start:end]), facts)


def _excerpt(span: str) -> str:
    # Invisible and direction-changing characters never reach an approver's
    # card: an excerpt shows what the words are, not how they were disguised.
    visible = _INVISIBLE.sub("", span[: _EXCERPT_MAX * 4])
    flat = _SPACES.sub(" ", visible).strip()
    return flat if len(flat) <= _EXCERPT_MAX else flat[: _EXCERPT_MAX - 1] + "…"


def _length(text: str, account: Account, links: list[Link]) -> list[Finding]:
    length = measure(text, account.network, links=links)
    if length.over_at is None:
        return []
    finding = _finding(
        Rule.LENGTH,
        text,
        length.over_at,
        len(text),
        network=account.network.value,
        count=length.count,
        limit=length.limit,
        unit=UNITS.get(account.network, "characters"),
    )
    return [finding]


def _personal(text: str, policy: LintPolicy) -> list[Finding]:
    # Stronger kinds first: a card number also holds digit runs that look
    # like a phone number; the weaker finding inside a stronger one is dropped.
    spans = personal.payment_cards(text) + personal.ibans(text)
    spans += personal.references(text, policy.reference_patterns)
    spans += personal.emails(text)
    spans += personal.phones(text, policy.phone_regions, skip=[(s, e) for s, e, _ in spans])
    taken: list[tuple[int, int]] = []
    findings = []
    for start, end, kind in spans:
        if any(start < e and s < end for s, e in taken):
            continue
        taken.append((start, end))
        span = text[start:end]
        if kind == "iban":
            findings.append(_masked(Rule.IBAN, start, end, _cut(span, 4)))
        elif kind in _PERSONAL_RULES:
            shown = (
                _masked_email(span) if kind == "email" else _cut(span, 6 if kind == "phone" else 4)
            )
            findings.append(_masked(_PERSONAL_RULES[kind], start, end, shown))
        else:
            findings.append(_masked(Rule.REFERENCE, start, end, _cut(span, 4), name=kind))
    return findings


def _masked(rule: Rule, start: int, end: int, shown: str, **facts: str | int) -> Finding:
    return Finding(rule, SEVERITY[rule], start, end, shown, facts)


def _cut(span: str, keep: int) -> str:
    return span[:keep].rstrip() + " …"


def _masked_email(span: str) -> str:
    local, _, domain = span.partition("@")
    return f"{local[:1]}…@{domain}"


def _mentions(text: str, account: Account, reply_to: str | None) -> list[Finding]:
    own = {_handle_key(account.handle)}
    if reply_to:
        own.add(_handle_key(reply_to))
    findings = []
    for match in _MENTION.finditer(text):
        mention = match.group(0).rstrip(".-")
        end = match.start() + len(mention)
        key = _handle_key(mention)
        local = _handle_key(match.group("name"))
        if key in own or (
            match.group("server") is None and local in {k.split("@")[0] for k in own}
        ):
            continue
        findings.append(_finding(Rule.MENTION, text, match.start(), end))
    return findings


def _handle_key(handle: str) -> str:
    return handle.strip().lstrip("@").lower()


def _shouting(text: str, min_letters: int, verbatim: list[tuple[int, int]]) -> list[Finding]:
    findings = []
    run: list[tuple[int, int]] = []
    letters = 0

    def close() -> None:
        if run and letters >= min_letters:
            findings.append(_finding(Rule.SHOUTING, text, run[0][0], run[-1][1]))

    for word in _UPPER_WORD.finditer(text):
        start, end = word.span()
        if any(s <= start < e for s, e in verbatim):
            continue
        # A word with a lower-case letter between two capitalised ones ends the run.
        if run and _LOWER.search(text, run[-1][1], start):
            close()
            run, letters = [], 0
        run.append((start, end))
        letters += sum(1 for c in word.group() if c.isalpha())
    close()
    return findings


@dataclass(frozen=True)
class _Folded:
    """Text folded for matching words (NFKC, case-folded, invisible format
    characters removed), with each folded character's original index."""

    text: str
    origin: tuple[int, ...] | None  # None: the same indices as the original

    @staticmethod
    def of(text: str) -> _Folded:
        if text.isascii():
            return _Folded(text.lower(), None)
        whole = _fold_simple(text)
        if whole is not None:
            return _Folded(whole, None)
        parts: list[str] = []
        origin: list[int] = []
        for run in _RUNS.finditer(text):
            start, end = run.span()
            value = run.group()
            folded = value.lower() if value.isascii() else _fold_simple(value)
            if folded is not None:
                parts.append(folded)
                origin.extend(range(start, end))
                continue
            for index in range(start, end):
                char = text[index]
                if unicodedata.category(char) == "Cf":
                    continue
                one = _fold(char)
                parts.append(one)
                origin.extend([index] * len(one))
        return _Folded("".join(parts), tuple(origin))

    def find(self, lists: tuple[tuple[Rule, tuple[str, ...]], ...]) -> list[tuple[Rule, int, int]]:
        """Whole-word matches of any listed phrase, with the rule of its list."""
        pattern = _phrase_pattern(lists)
        if pattern is None:
            return []
        spans = []
        for match in pattern.finditer(self.text):
            start, end = match.span()
            if self.origin is not None:
                start, end = self.origin[start], self.origin[end - 1] + 1
            spans.append((lists[int(str(match.lastgroup)[1:])][0], start, end))
        return spans


def _fold_simple(run: str) -> str | None:
    # Most non-ASCII text (accents, Cyrillic, CJK) is already NFKC and folds
    # one character to one: then the whole run folds at once, offsets kept.
    if _FORMAT.search(run) or not unicodedata.is_normalized("NFKC", run):
        return None
    folded = run.casefold().replace("\u2019", "'")
    return folded if len(folded) == len(run) else None


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")


@lru_cache(maxsize=256)
def _phrase_pattern(lists: tuple[tuple[Rule, tuple[str, ...]], ...]) -> re.Pattern[str] | None:
    # One pass for every list: group "l<n>" names the list a phrase came
    # from; longest phrases first, so "we guarantee a refund" wins over
    # "we guarantee".
    phrases = [
        (_fold(phrase).split(), index)
        for index, (_, listed) in enumerate(lists)
        for phrase in listed
        if phrase.strip()
    ]
    if not phrases:
        return None
    phrases.sort(key=lambda item: len(" ".join(item[0])), reverse=True)
    by_list: dict[int, list[str]] = {}
    for words, index in phrases:
        by_list.setdefault(index, []).append(r"\s+".join(re.escape(w) for w in words))
    groups = "|".join(f"(?P<l{i}>{'|'.join(alts)})" for i, alts in by_list.items())
    return re.compile(rf"(?<!\w)(?:{groups})(?!\w)")
