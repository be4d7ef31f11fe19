"""Personal data in a draft: e-mail addresses, phone numbers, payment cards,
IBANs and the company's own order or account numbers.

Each finder returns ``(start, end, kind)`` spans into the text. Numbers are
confirmed, not just shaped right: phone numbers by libphonenumber's
``phonenumbers`` (valid for their region), card numbers by the Luhn check and
a card-network prefix, IBANs by ``schwifty`` (ISO 13616 length and the
ISO 7064 mod 97-10 check).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import phonenumbers
import regex
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

Span = tuple[int, int, str]

_EMAIL = regex.compile(
    r"(?<![\w@.+\-])[\w.+\-]{1,64}@(?:[\p{L}\p{N}](?:[\p{L}\p{N}\-]{0,61}[\p{L}\p{N}])?\.)+\p{L}{2,63}(?![\w@])",
    regex.VERSION1,
)
# 13 to 19 digits, optionally grouped by single spaces or hyphens.
# The look-behind follows the first digit, so the search can skip to digits.
_CARD = re.compile(r"\d(?<!\w\d)(?:[ \-]?\d){12,18}(?!\w)")
# Country code, check digits, then the account part in groups or run together.
_IBAN = re.compile(r"[A-Z](?<![A-Za-z0-9][A-Z])[A-Z]\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
# Digits with the separators phone numbers are written with.
# (A leading "+" or "(" falls inside the matcher's context window.)
_PHONE_CANDIDATE = re.compile(r"\d[\d \t\u00a0().\-/]{4,24}\d")
_DIGIT = re.compile(r"\d")
_MIN_PHONE_DIGITS = 7
_CONTEXT = 3


def emails(text: str) -> list[Span]:
    return [(m.start(), m.end(), "email") for m in _EMAIL.finditer(text)]


def phones(
    text: str, regions: Iterable[str], *, skip: Iterable[tuple[int, int]] = ()
) -> list[Span]:
    """Valid phone numbers: international ones anywhere, national ones for
    ``regions``; digits inside a ``skip`` span (a card, an IBAN) are not read."""
    found: dict[tuple[int, int], Span] = {}
    taken = list(skip)
    for candidate in _PHONE_CANDIDATE.finditer(text):
        if len(_DIGIT.findall(candidate.group())) < _MIN_PHONE_DIGITS:
            continue
        if any(s <= candidate.start() and candidate.end() <= e for s, e in taken):
            continue
        # A number written with its country code reads the same in every region.
        international = text[max(0, candidate.start() - 1) : candidate.start()] == "+"
        # The matcher reads a little context: letters glued to the digits
        # make a code, not a phone number.
        start = max(0, candidate.start() - _CONTEXT)
        window = text[start : candidate.end() + _CONTEXT]
        for region in list(regions)[:1] if international else regions:
            matcher = phonenumbers.PhoneNumberMatcher(
                window, region, leniency=phonenumbers.Leniency.VALID, max_tries=50
            )
            for match in matcher:
                span = (start + match.start, start + match.end)
                found.setdefault(span, (*span, "phone"))
    return sorted(found.values())


def payment_cards(text: str) -> list[Span]:
    spans = []
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if _card_prefix(digits) and luhn_valid(digits):
            spans.append((match.start(), match.end(), "card"))
    return spans


def ibans(text: str) -> list[Span]:
    spans = []
    for match in _IBAN.finditer(text):
        candidate = match.group()
        # The greedy match may run into a following code; try shorter ends.
        for end in range(len(candidate), 14, -1):
            if candidate[end - 1] == " ":
                continue
            if _valid_iban(candidate[:end]):
                spans.append((match.start(), match.start() + end, "iban"))
                break
    return spans


def references(text: str, patterns: dict[str, re.Pattern[str]]) -> list[Span]:
    """The company's own identifiers (order or account numbers), by name."""
    return [(m.start(), m.end(), name) for name, p in patterns.items() for m in p.finditer(text)]


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check used by every payment card number."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card_prefix(digits: str) -> bool:
    # Issuer prefixes of the card networks (Visa, Mastercard, Amex, Discover,
    # JCB, Diners, UnionPay, Maestro): a Luhn-valid run of digits without
    # one is an order number or a phone number, not a card.
    length = len(digits)
    if digits[0] == "4":
        return length in (13, 16, 19)
    two, four = int(digits[:2]), int(digits[:4])
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return length == 16
    if two in (34, 37):
        return length == 15
    if two in (36, 38, 39) or 300 <= int(digits[:3]) <= 305:
        return 14 <= length <= 19
    if digits.startswith(("6011", "65", "64", "62", "35")):
        return 16 <= length <= 19
    return digits.startswith(("50", "56", "57", "58", "67")) and 12 <= length <= 19


def _valid_iban(candidate: str) -> bool:
    try:
        IBAN(candidate)
    except (SchwiftyException, ValueError):
        return False
    return True
