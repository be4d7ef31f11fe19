"""The policy lint over real-looking (and hostile) drafts: every rule, its severity, its span and
the sentence an approver reads."""

from __future__ import annotations

import pytest

from bot.config import parse_settings
from bot.core.accounts import Account, LintPolicy, Network
from bot.core.settings import Settings
from bot.runtime import required_templates
from bot.templates import JinjaTemplates
from handlers.approvals.lint import (
    TEMPLATES,
    Finding,
    Rule,
    Severity,
    blocking,
    explain,
    lint,
    needs_legal_step,
)
from tests.conftest import ROOT

TEMPLATES_DIR = JinjaTemplates(ROOT / "templates")


@pytest.fixture(scope="module")
def settings() -> Settings:
    return parse_settings((ROOT / "playcaller.yaml").read_text(encoding="utf-8"), "playcaller.yaml")


@pytest.fixture(scope="module")
def policy(settings: Settings) -> LintPolicy:
    return settings.approvals.lint


@pytest.fixture(scope="module")
def x_account(settings: Settings) -> Account:
    return settings.accounts["acme-x"]


@pytest.fixture(scope="module")
def linkedin(settings: Settings) -> Account:
    return settings.accounts["acme-linkedin"]


def run(
    text: str, account: Account, policy: LintPolicy, reply_to: str | None = "@jane_doe"
) -> list[Finding]:
    found = lint(text, account=account, policy=policy, reply_to=reply_to)
    for finding in found:
        assert 0 <= finding.start < finding.end <= len(text) or finding.rule is Rule.EMPTY
    return found


def rules(found: list[Finding]) -> list[tuple[str, str]]:
    return [(f.rule.value, f.severity.value) for f in found]


def said(finding: Finding) -> str:
    return explain(finding, TEMPLATES_DIR)


def test_a_good_reply_has_no_findings(x_account: Account, policy: LintPolicy) -> None:
    text = (
        "Hi @jane_doe, sorry about the double charge. We've refunded the second payment; "
        "it shows within 3-5 days. Details: https://www.acme.com/help/refunds 🙏"
    )
    assert run(text, x_account, policy) == []


def test_empty_draft_is_blocked(x_account: Account, policy: LintPolicy) -> None:
    [finding] = run("  \n\t ", x_account, policy)
    assert (finding.rule, finding.severity) == (Rule.EMPTY, Severity.BLOCKING)
    assert said(finding) == "The draft is empty: write the reply before submitting."


def test_too_long_for_x_names_the_count_and_the_overflow(
    x_account: Account, policy: LintPolicy
) -> None:
    text = "We're so sorry for the wait. " * 10  # 290 characters
    [finding] = run(text, x_account, policy)
    assert (finding.rule, finding.severity) == (Rule.LENGTH, Severity.BLOCKING)
    assert (finding.start, finding.end) == (280, 290)
    assert said(finding) == (
        "Too long for X: 290 of 280 weighted characters; the text from “the wait.” on does not fit."
    )


def test_the_same_text_fits_linkedin(linkedin: Account, policy: LintPolicy) -> None:
    assert run("We're so sorry for the wait. " * 10, linkedin, policy) == []


def test_phone_number_is_blocked_and_shown_cut_short(
    x_account: Account, policy: LintPolicy
) -> None:
    text = "Jane, call our team back on +44 20 7946 0958 and quote your case."
    [finding] = run(text, x_account, policy)
    assert (finding.rule, finding.severity) == (Rule.PHONE, Severity.BLOCKING)
    assert text[finding.start : finding.end] == "+44 20 7946 0958"
    assert said(finding) == (
        "Contains a phone number: +44 20 …; replies must not repeat a customer's personal data."
    )
    assert "7946" not in said(finding)


def test_national_phone_numbers_for_the_configured_regions(
    x_account: Account, policy: LintPolicy
) -> None:
    found = run("Ring (212) 555-0142 or 020 7946 0958 after 9am", x_account, policy)
    assert [f.rule for f in found] == [Rule.PHONE, Rule.PHONE]


def test_dates_times_and_prices_are_not_phone_numbers(
    x_account: Account, policy: LintPolicy
) -> None:
    text = "On 2026-11-30 at 14:02 we charged $1,299.00 twice; the refund is 1299.00 USD."
    assert run(text, x_account, policy) == []


def test_email_address_is_blocked_without_repeating_it(
    x_account: Account, policy: LintPolicy
) -> None:
    text = "Thanks Jane! We've updated jane.doe+orders@gmail.com on your account."
    [finding] = run(text, x_account, policy)
    assert finding.rule is Rule.EMAIL
    assert text[finding.start : finding.end] == "jane.doe+orders@gmail.com"
    assert said(finding) == (
        "Contains an e-mail address: j…@gmail.com; replies must not repeat a customer's personal data."
    )


def test_payment_cards_pass_luhn_and_a_network_prefix(
    x_account: Account, policy: LintPolicy
) -> None:
    text = "Card 4111 1111 1111 1111 and Amex 3782-822463-10005 but not 4111 1111 1111 1112."
    found = run(text, x_account, policy)
    assert [(f.rule, text[f.start : f.end]) for f in found] == [
        (Rule.PAYMENT_CARD, "4111 1111 1111 1111"),
        (Rule.PAYMENT_CARD, "3782-822463-10005"),
    ]
    assert said(found[0]) == (
        "Contains a payment card number: 4111 …; replies must never repeat card details."
    )


def test_luhn_valid_digits_without_a_card_prefix_are_not_cards(
    x_account: Account, policy: LintPolicy
) -> None:
    # 1234 5678 9012 3452 passes Luhn but no card network issues numbers starting 1.
    assert run("Tracking 1234 5678 9012 3452 is on its way", x_account, policy) == []


def test_ibans_with_a_valid_checksum(x_account: Account, policy: LintPolicy) -> None:
    text = (
        "Pay to GB82 WEST 1234 5698 7654 32 THANKS, or DE89370400440532013000; "
        "not GB82 WEST 1234 5698 7654 33."
    )
    found = run(text, x_account, policy)
    assert [(f.rule, text[f.start : f.end]) for f in found] == [
        (Rule.IBAN, "GB82 WEST 1234 5698 7654 32"),
        (Rule.IBAN, "DE89370400440532013000"),
    ]
    assert said(found[0]) == (
        "Contains a bank account number (IBAN): GB82 …; replies must not repeat a customer's personal data."
    )


def test_order_and_account_numbers_from_config(x_account: Account, policy: LintPolicy) -> None:
    text = "Your order ORD-1234567 is linked to ACC-12345678."
    found = run(text, x_account, policy)
    assert [(f.rule, f.facts["name"], text[f.start : f.end]) for f in found] == [
        (Rule.REFERENCE, "order number", "ORD-1234567"),
        (Rule.REFERENCE, "account number", "ACC-12345678"),
    ]
    assert said(found[0]) == (
        "Contains an order number: ORD- …; ask the customer to send it in a private message instead."
    )
    assert said(found[1]).startswith("Contains an account number: ACC- …")


def test_commitments_need_a_legal_step_not_a_block(x_account: Account, policy: LintPolicy) -> None:
    text = "We admit it was our fault and we guarantee compensation."
    found = run(text, x_account, policy)
    assert rules(found) == [
        ("legal-phrase", "needs-legal-step"),
        ("legal-phrase", "needs-legal-step"),
        ("legal-phrase", "needs-legal-step"),
        ("legal-phrase", "needs-legal-step"),
    ]
    assert [text[f.start : f.end] for f in found] == [
        "We admit",
        "our fault",
        "we guarantee",
        "compensation",
    ]
    assert blocking(found) == [] and needs_legal_step(found)
    assert said(found[0]) == (
        "Says “We admit”: a commitment or admission, so a legal approver must approve this reply too."
    )


def test_legal_phrases_are_per_spoke(settings: Settings, policy: LintPolicy) -> None:
    text = "We can discuss a settlement by DM."
    care = settings.accounts["acme-x"]
    talent = settings.accounts["acme-careers"]
    assert rules(run(text, care, policy)) == [("legal-phrase", "needs-legal-step")]
    assert run(text, talent, policy) == []


def test_hidden_and_disguised_phrases_are_still_found(
    x_account: Account, policy: LintPolicy
) -> None:
    zero_width = "Honestly, we g\u200buar\u200dantee it."
    fullwidth = "ｗｅ　ｇｕａｒａｎｔｅｅ it"
    split_lines = "we\n   guarantee it"
    for text, phrase in [
        (zero_width, "we g\u200buar\u200dantee"),
        (fullwidth, "ｗｅ　ｇｕａｒａｎｔｅｅ"),
        (split_lines, "we\n   guarantee"),
    ]:
        [finding] = run(text, x_account, policy)
        assert finding.rule is Rule.LEGAL_PHRASE
        assert text[finding.start : finding.end] == phrase
    assert run("We guaranteed nothing.", x_account, policy) == []
    [disguised] = run(zero_width, x_account, policy)
    assert said(disguised) == (
        "Says “we guarantee”: a commitment or admission, so a legal approver must approve this reply too."
    )


def test_excerpts_drop_direction_overrides_and_control_characters(
    x_account: Account, policy: LintPolicy
) -> None:
    text = "Ring +44 20 7946 0958. Contact \u202eliable\u202c\x07 people."
    found = run(text, x_account, policy)
    assert [f.excerpt for f in found] == ["+44 20 …", "liable"]


def test_banned_terms_and_competitors(x_account: Account, policy: LintPolicy) -> None:
    text = "That was a stupid mistake, unlike Globex we own it. Stupidity aside."
    found = run(text, x_account, policy)
    assert rules(found) == [("banned-term", "blocking"), ("competitor", "warning")]
    assert said(found[0]) == "Uses “stupid”, a term the company does not allow in public replies."
    assert (
        said(found[1]) == "Names a competitor, “Globex”; the approver decides whether that is wise."
    )


def test_links_outside_the_allow_list(x_account: Account, policy: LintPolicy) -> None:
    text = (
        "Reset here: https://acme-support.help-desk.ru/login?u=jane (or www.acme.com/help, "
        "status.acme.com). Not acme.com.evil.io/x though."
    )
    found = run(text, x_account, policy)
    assert [(f.rule, f.facts["host"]) for f in found] == [
        (Rule.LINK, "acme-support.help-desk.ru"),
        (Rule.LINK, "acme.com.evil.io"),
    ]
    assert said(found[0]) == (
        "Links to acme-support.help-desk.ru, which is not on the company's list of allowed domains: "
        "“https://acme-support.help-desk.ru/login?u=jane”."
    )


def test_fake_links_are_caught_behind_their_labels(x_account: Account, policy: LintPolicy) -> None:
    slack_style = "<https://evil.example/reset|https://acme.com/reset>"
    markdown = "[acme.com/help](https://phish.io/acme)"
    html = '<a href="http://192.168.4.7/pay">acme.com</a>'
    hosts = [
        f.facts["host"]
        for text in (slack_style, markdown, html)
        for f in run(text, x_account, policy)
    ]
    assert hosts == ["evil.example", "phish.io", "192.168.4.7"]


def test_mentions_of_other_accounts(x_account: Account, policy: LintPolicy) -> None:
    text = "@jane_doe thanks! @acme is on it; cc @globex_help and @here. Mail help@acme.com."
    found = run(text, x_account, policy)
    # "globex" inside a handle is the handle's business, not a competitor named in words.
    assert [(f.rule, text[f.start : f.end]) for f in found] == [
        (Rule.MENTION, "@globex_help"),
        (Rule.MENTION, "@here"),
        (Rule.EMAIL, "help@acme.com"),
    ]
    mention = next(f for f in found if f.rule is Rule.MENTION)
    assert said(mention) == (
        "Mentions @globex_help, another account, which will be notified when this is published."
    )


def test_fediverse_mentions(settings: Settings, policy: LintPolicy) -> None:
    account = Account("m", Network.MASTODON, "@acme@mastodon.social", "care")
    text = "@jane@fosstodon.org thanks, @acme@mastodon.social will DM; ask @bob@example.social too"
    found = run(text, account, policy, reply_to="@jane@fosstodon.org")
    assert [text[f.start : f.end] for f in found] == ["@bob@example.social"]


def test_shouting(x_account: Account, policy: LintPolicy) -> None:
    text = "THIS IS NOT ACCEPTABLE and we're SO sorry; GDPR and FAQ links follow."
    [finding] = run(text, x_account, policy)
    assert (finding.rule, finding.severity) == (Rule.SHOUTING, Severity.WARNING)
    assert text[finding.start : finding.end] == "THIS IS NOT ACCEPTABLE"
    assert said(finding) == "Shouts in capitals: “THIS IS NOT ACCEPTABLE”; write it in normal case."


def test_hostile_text_is_just_text(x_account: Account, policy: LintPolicy) -> None:
    text = (
        "<!channel> <!here|here> @everyone <@U024BE7LH> *bold* ~strike~ `code` "
        "<script>alert(1)</script> {{ secret }} {% raw %} \u202egnp.exe \x00\x1b[31m"
    )
    found = run(text, x_account, policy)
    # On a network "@U024BE7LH" is a handle like any other.
    assert [(f.rule, text[f.start : f.end]) for f in found] == [
        (Rule.MENTION, "@everyone"),
        (Rule.MENTION, "@U024BE7LH"),
    ]
    assert said(found[0]) == (
        "Mentions @everyone, another account, which will be notified when this is published."
    )


def test_template_syntax_in_a_finding_is_not_evaluated(
    x_account: Account, policy: LintPolicy
) -> None:
    text = "We guarantee {{ 7*7 }} {% for x in y %}"
    [finding] = run(text, x_account, policy)
    assert said(finding).startswith("Says “We guarantee”")
    long_phrase = LintPolicy(banned_terms=("{{ 7*7 }}",))
    [banned] = run(text, x_account, long_phrase)
    assert said(banned) == "Uses “{{ 7*7 }}”, a term the company does not allow in public replies."


@pytest.mark.parametrize(
    "text",
    [
        "a." * 20_000,
        "@" * 20_000,
        "1 " * 20_000,
        "http://" + "a" * 20_000,
        ("x" * 63 + ".") * 300 + "com",
        "GB82" + " 1234" * 5_000,
        "4" * 20_000,
        "Ａ" * 20_000,
        "\u200b" * 20_000 + "we guarantee",
    ],
    ids=[
        "dots",
        "ats",
        "digits",
        "long-url",
        "labels",
        "iban-like",
        "digit-run",
        "fullwidth",
        "zwsp",
    ],
)
def test_pathological_drafts_finish_and_are_too_long(
    text: str, x_account: Account, policy: LintPolicy
) -> None:
    found = run(text, x_account, policy)
    assert any(f.rule is Rule.LENGTH for f in found)


def test_every_rule_has_a_template_that_start_up_requires() -> None:
    required = set(required_templates())
    for rule in Rule:
        assert TEMPLATES[rule] in required
        assert (ROOT / "templates" / TEMPLATES[rule]).is_file()
