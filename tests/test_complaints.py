"""Complaints and urgency: what the card says about a post's tone (issue 13, point 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core import complaint_scan, complaints
from bot.core.storage import Record
from bot.intake.enrich import VaderSentiment
from handlers.triage.records import KIND, from_record, to_record
from tests.conftest import Chat

ROOT = Path(__file__).resolve().parent.parent
MODEL = VaderSentiment()


#: Praise may show Neutral, never Negative or Complaint: the engine shows
#: positive only when its trained model is sure (eval/sentiment/README.md,
#: *The trained model*), so that no complaint shows as praise; praise shown
#: neutral is the cheap error the product accepts for that.
PRAISE = "Positive|Neutral"


def shown(text: str, network: str = "x") -> str:
    """The Sentiment fact as the card words it (templates/triage/sentiment.txt)."""
    s = MODEL.assess(text, network)
    words = "Complaint" if s.complaint else s.label.capitalize()
    return words + (" · urgent" if s.urgent else "")


# The two texts the issue quotes, where VADER alone says positive.
ISSUE_ORDER = "@FreshCart my order never arrived and nobody answers. I want a refund now!"
# samples/feed.jsonl's lawsuit threat: +0.20 for VADER, as the issue says.
ISSUE_LAWSUIT = "Thinking about suing Acme over the late fees. Does anyone know a good lawyer?"


def test_the_issues_examples_are_complaints_not_positive() -> None:
    order = MODEL.assess(ISSUE_ORDER, "x")
    assert order.compound > 0  # what VADER alone says, the reason for the issue
    assert order.label == "negative" and order.complaint
    lawsuit = MODEL.assess(ISSUE_LAWSUIT, "x")
    assert lawsuit.compound > 0
    assert (lawsuit.label, lawsuit.complaint, lawsuit.urgent) == ("negative", True, True)


@pytest.mark.parametrize(
    ("text", "network", "card"),
    [
        # Irony and praise words around a complaint.
        ("great job @AcmeAir, 3 hours on hold 🙃 #customerservice", "x", "Complaint"),
        ("thanks for nothing @Parcelo, 'delivered' to a door that isn't mine", "x", "Complaint"),
        ("@acme seat 23C had no working screen for a 9 hour flight. great.", "x", "Complaint"),
        ("love the rebrand but the app is slower than ever now", "bluesky", "Complaint"),
        ("@acme oh great, another price rise. just what we needed", "x", "Complaint"),
        # Plain complaints VADER reads as neutral or positive.
        (
            "@acme 3rd email about the wrong meter reading and still nothing back",
            "mastodon",
            "Complaint",
        ),
        ("Still waiting on that callback @NorthBank. Day 9. #stillwaiting", "x", "Complaint"),
        ("@acme I've been charged £49 twice this month, please fix", "x", "Complaint · urgent"),
        # Urgent complaints: safety, money, stranded, legal.
        (
            "@acme the heater in room 204 is sparking and reception isn't picking up",
            "x",
            "Complaint · urgent",
        ),
        (
            "Someone took €2,300 out of my @NorthBank account in transactions I didn't make",
            "x",
            "Complaint · urgent",
        ),
        (
            "@AcmeAir flight cancelled, no hotel, 2 kids sleeping on the floor at gate B14",
            "x",
            "Complaint · urgent",
        ),
        # Negative-sounding praise.
        ("can't complain about @Brightwave tbh, 2 years and not a single outage", "x", PRAISE),
        ("This ad made me cry ngl. Good job whoever wrote it", "youtube", "Positive"),
        ("damn @FreshCart that's how you do a refund. money back same day 💯", "x", PRAISE),
        # Urgent but not a complaint: the tone toward us is neutral.
        (
            "Hi @acme, reporter at the Valley Courier: can we get a comment by 5pm today?",
            "x",
            "Neutral · urgent",
        ),
        # Questions and headlines.
        ("@KettleCo is the oat milk free now or still +40p?", "x", "Neutral"),
        ("@AcmeAir can I bring a guitar as cabin luggage?", "x", "Neutral"),
        (
            "Voltline fined £4.2m by energy regulator over years of billing errors",
            "news",
            "Negative",
        ),
        ("Nimbus Mobile and Brightwave in talks over shared rural masts", "news", "Neutral"),
        (
            "Had a lovely stay at Stayfair Lakeside, staff couldn't do enough for us.",
            "facebook",
            PRAISE,
        ),
    ],
)
def test_what_the_card_says(text: str, network: str, card: str) -> None:
    assert shown(text, network) in card.split("|")


#: The labelled sets tuned on (eval/sentiment/README.md). The held-out set
#: (holdout2) is not in this list and is only ever run by the lead through
#: bench/sentiment_eval.py, for aggregates.
TUNING_SETS = ("dev", "test", "writer_dev", "writer_dev2")


def tuning_items() -> list[dict[str, object]]:
    return [
        json.loads(line)
        for name in TUNING_SETS
        for line in (ROOT / "eval" / "sentiment" / f"{name}.jsonl").read_text("utf-8").splitlines()
        if line.strip()
    ]


@pytest.mark.parametrize(
    ("text", "network", "card"),
    [
        # The same trouble again, a service verb negated, what was expected.
        ("@ZipRail the 8:10 to Leeds is cancelled for the third time this week", "x", "Complaint"),
        (
            "@QuickShip my parcel still hasn't turned up and the app says delivered",
            "x",
            "Complaint",
        ),
        ("@HomeNest my wardrobe arrived with a door missing. expected better", "x", "Complaint"),
        # Praise, then a complaint after it: the complaint is what counts.
        ("Ordered a large, got a small. 10/10 would not order again @KettleCo", "x", "Complaint"),
        ("@AcmeAir I'm sure the new lounge is great when it's open", "x", "Complaint"),
        # Irony: praise first or a polite sign, then a problem.
        ("Perfect, my train is late again @ZipRail", "x", "Complaint"),
        ("@StreamBox thanks for the lovely 50 minute wait just to be cut off 👍", "x", "Complaint"),
        (
            "@FreshCart the new app is great 🙂 shame it logs me out every time I open it",
            "x",
            "Complaint",
        ),
        ("So glad I pay @NimbusMobile £50 a month for one bar of signal", "x", "Complaint"),
        ("Cheers @Brightwave for the surprise £30 charge this month", "x", "Complaint"),
        (
            "@AcmeAir nothing says welcome home like a 2am baggage carousel that isn't moving",
            "x",
            "Complaint",
        ),
        # The same words, sincere.
        ("@StayfairHotels thanks for the surprise upgrade, so kind", "x", PRAISE),
        # Irony the lexicon does not name; the trained model reads it as the
        # complaint it is (sarcastic praise is a complaint, eval/sentiment/README.md).
        (
            "@NorthBank fantastic customer service as always, 90 minutes to be told to call "
            "another number",
            "x",
            "Complaint",
        ),
        # A handle inside a phrase does not hide it.
        ("thanks @Parcelo.bsky.social for nothing, still no parcel", "bluesky", "Complaint"),
        # Praise idioms with trouble words in them.
        (
            "@Voltline engineer came early and sorted everything. credit where it's due",
            "x",
            "Positive",
        ),
        ("@acme why didn't I switch years ago, half the price and better signal", "x", PRAISE),
        # The trade-off: warm words beside a sign of trouble show neutral, not
        # positive (a missed complaint shown as praise is the costly error).
        # Known miss of the trained model (shown as a complaint: "still" weighs
        # as a complaint cue); no threshold keeps it and every other card
        # example here right. Kept as a strict xfail so a fix shows up.
        pytest.param(
            "@acme loving the new app, still getting used to it",
            "x",
            "Neutral",
            marks=pytest.mark.xfail(
                strict=True, reason="trained model: 'still' reads as a complaint"
            ),
        ),
        ("@NorthBank the app is fine I guess", "x", "Neutral"),
        # Not recognised as a complaint, but nothing after "but" is praise, so
        # VADER's +0.74 for "cute" does not show it as positive.
        ("@KettleCo the new cups are cute but they burn your hand", "x", "Neutral"),
        # Praise that a "but" turns away from is not the last word.
        (
            "Ex-Parcelo driver here. Not complaining, I left on good terms, but the shifts "
            "were brutal",
            "reddit",
            # Negative by the labels; the model is not sure, so neutral.
            "Negative|Neutral",
        ),
        # Excitement ("!!") after thanks is not irony.
        ("@AcmeAir upgraded for free on my honeymoon, thank you!!", "x", "Positive"),
        ("@HomeNest quick delivery, well packed, will order again", "x", PRAISE),
        # Urgent: power cut by mistake for an elderly person, a cloned card.
        (
            "@Voltline you switched off our power by mistake and my dad is 84",
            "x",
            "Complaint · urgent",
        ),
        (
            "@NorthBank my card was cloned, £700 gone overnight and the fraud line is closed",
            "x",
            "Complaint · urgent",
        ),
    ],
)
def test_what_the_card_says_for_the_general_rules(text: str, network: str, card: str) -> None:
    assert shown(text, network) in card.split("|")


def test_a_complaint_is_never_positive_on_the_tuning_sets() -> None:
    complaints_seen = [i for i in tuning_items() if i["complaint"]]
    assert len(complaints_seen) >= 190
    shown_positive = [
        i["id"]
        for i in complaints_seen
        if MODEL.assess(str(i["text"]), str(i["network"])).label == "positive"
    ]
    # Positive needs a praise expression and no sign of trouble
    # (bot/core/complaint_doubt.py): old test s097 ("wow, a lot of data sharing
    # partners"), the one exception before, names no praise and reads neutral.
    assert shown_positive == []


def test_praise_is_still_shown_positive_on_the_tuning_sets() -> None:
    # The stricter rule for positive must not turn the card into one that
    # never says positive: about half the praise of the tuning sets does.
    praise = [i for i in tuning_items() if i["polarity"] == "positive"]
    assert len(praise) >= 120
    labels = [MODEL.assess(str(i["text"]), str(i["network"])).label for i in praise]
    # Half, not more: positive needs the model to be sure (PRAISE above).
    assert labels.count("positive") >= 0.45 * len(praise)
    assert labels.count("negative") <= 0.05 * len(praise)


# Written for bot/core/complaint_doubt.py, none of them in an eval set: warm
# or polite complaints whose words VADER scores as praise.
POLITE_COMPLAINTS = [
    "@Orbix hope you're all well! Could someone check why my direct debit went out twice? Thanks x",
    "@Hollis_Energy thanks for the reminder email, I'd love it if my meter reading was actually used",
    "So happy to hear from you @Norvo! Any update on the claim I made in August?",
    "@Pinegate thank you for the kind reply. Is it normal for a refund to take five weeks?",
    "@Brightmoor beautiful shop, the payment terminal charged me £80 instead of £8 though",
    "Great to see you're hiring @Tallow! Maybe some of them can answer the phone 😂",
    "wonderful customer service @Delmar, truly. only took 7 calls",
    "@Harlow_Trains cheers for the free coffee, would be nicer if the train had come",
    "@Lumio hi! love the app, just a heads up that the login button does nothing on android",
    "@Sable_Mobile thanks for the 5G! Now if only it worked indoors",
    "@Mistral_Foods the lasagne was yummy, the glass in it less so",
    "@Verity_Bank thank you for keeping my money so safe I can't get to it",
    "Lovely chat with support, who said my refund should arrive. It has been 30 days",
    "So kind of you to remind me about an overdue balance I paid on Monday, thanks!",
    "@Fernway great update! A little disappointed the dark mode went missing though",
]


@pytest.mark.parametrize("text", POLITE_COMPLAINTS)
def test_a_polite_complaint_is_not_shown_positive(text: str) -> None:
    assert MODEL.assess(text, "x").compound > 0  # VADER alone would say praise
    assert not shown(text).startswith("Positive")


@pytest.mark.parametrize(
    "text",
    [
        "@Ashcroft thanks for the fast delivery, love the jumper!",
        "@Ellory_Tea the new blend is gorgeous, ordered three more bags",
        "@Briar_Rail well done on the new timetable, trains every 10 minutes is a game changer",
        "shout out to the @Fernway team, the new app is so much better 🙌",
    ],
)
def test_praise_with_a_praise_expression_is_never_negative(text: str) -> None:
    assert shown(text) in PRAISE.split("|")


def test_the_one_scan_finds_what_one_regex_per_group_finds() -> None:
    # The bucketed scan must be an optimisation only: on every text at hand each
    # group is found exactly where its plain alternation finds it.
    texts = [str(item["text"]) for item in tuning_items()] + [
        json.loads(line)["text"]
        for path in sorted((ROOT / "samples").glob("*.jsonl"))
        for line in path.read_text("utf-8").splitlines()
        if line.strip().startswith("{")
    ]
    texts += ["I was charged £300 twice, flight 3 hours late", "my 8 yo is stuck at 10pm", ""]
    texts += ["the 3rd time this week, an hour wait, 4 emails", "20 minute wait. 5 times!"]
    texts += POLITE_COMPLAINTS
    # As signals() scans them too: handles cut to "@".
    texts += [complaints._HANDLE.sub("@", text.lower()) for text in texts if "@" in text]
    assert len(texts) > 600
    groups = [
        ("main", complaints.KINDS),
        ("soft", complaints.ACCLAIM_KINDS | complaints.DOUBT_KINDS),
    ]
    plains = [(scan, {k: complaints.plain(p) for k, p in kinds.items()}) for scan, kinds in groups]
    for (scan, plain), text in ((group, text) for group in plains for text in texts):
        low = text.lower()
        found = complaints._kinds_in(low, scan)
        for kind, pattern in plain.items():
            # Every word where a phrase of the group starts, overlaps included.
            starts = [at for at in range(len(low) + 1) if pattern.match(low, at)]
            assert (kind in found) == bool(starts), (kind, text)
            if kind in complaints.PLACED:  # counted and placed, not only found
                assert sorted(found.get(kind, [])) == starts, (kind, text)


def test_every_phrase_starts_where_the_scan_looks() -> None:
    # The scan tries a phrase only at words starting with its first characters,
    # or at words starting with a digit when those cannot be told.
    for kind, patterns in (
        complaints.KINDS | complaints.ACCLAIM_KINDS | complaints.DOUBT_KINDS
    ).items():
        for pattern in patterns:
            for branch in complaint_scan.branches(pattern):
                known = complaint_scan.prefixes(branch, 1) is not None
                assert known or branch.removeprefix("\\b").startswith(("\\d", "(?<=[")), (
                    kind,
                    branch,
                )


def test_records_keep_the_signals_and_older_records_read_as_none() -> None:
    from datetime import UTC, datetime

    from bot.core.model import Author, Enrichment, Mention, Sentiment

    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    mention = Mention(
        network="x",
        external_id="1",
        text=ISSUE_ORDER,
        created_at=at,
        author=Author("dana"),
        received_at=at,
        enrichment=Enrichment(sentiment=Sentiment(0.15, "negative", True, True)),
    )
    record = to_record(mention)
    assert from_record(record).enrichment.sentiment == Sentiment(0.15, "negative", True, True)
    data = json.loads(json.dumps(record.data))
    data["enrichment"]["sentiment"] = {"compound": 0.15, "label": "positive"}
    older = from_record(Record(KIND, record.key, data, record.version, record.tags))
    assert older.enrichment.sentiment == Sentiment(0.15, "positive", False, False)


def mention_line(text: str, **changes: object) -> str:
    post = {
        "network": "x",
        "id": "77",
        "text": text,
        "url": "https://x.com/dana/status/77",
        "created_at": "2026-03-02T08:59:00Z",
        "author": {"handle": "dana", "followers": 900},
    }
    return "mention " + json.dumps({**post, **changes})


async def test_the_card_shows_a_complaint_in_plain_words(chat: Chat) -> None:
    out = await chat.run(mention_line(ISSUE_ORDER))
    assert "Sentiment: Complaint\n" in out
    # Routing rules match VADER's own tone (positive here): a complaint alone
    # keeps its rule's priority; urgency raises it (below).
    assert "[#1 · #care]" in out and "  Normal · " in out
    details = await chat.run("click Details #1")
    # VADER's own score stays in Details, named as such: it is above zero.
    assert "VADER score: +0.15" in details
    record = await chat.store.get(KIND, "x:77")
    assert record is not None
    assert record.data["enrichment"]["sentiment"]["complaint"] is True


async def test_an_urgent_post_is_raised_to_high_priority(chat: Chat) -> None:
    # A journalist's deadline: not a complaint, so no rule for unhappy customers
    # routes it, and the default route says normal; urgency makes it high.
    out = await chat.run(
        mention_line("Hi @acme, reporter at the Valley Courier: can we get a comment by 5pm today?")
    )
    assert "Sentiment: Neutral · urgent" in out
    assert "High · 30m left · Unclaimed" in out
    calm = await chat.run(mention_line("@acme what time does the Elm Road store open?", id="78"))
    assert "Sentiment: Neutral\n" in calm
    assert "Normal · " in calm
